-- wrk script: POST SendGrid-signed Event Webhook batches from bench/tracker's sendgrid.txt
-- (signature, timestamp, body per line) to one account's URL. The threads split the file
-- between them so no batch is sent twice until the file wraps around.
local requests = {}
local index = 0
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("id", counter)
end

function init(args)
    local threads = tonumber(os.getenv("WRK_THREADS") or "1")
    local n = 0
    for line in io.lines(os.getenv("SENDGRID_FILE")) do
        n = n + 1
        if n % threads == (id or 1) - 1 then
            local signature, timestamp, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
            requests[#requests + 1] = wrk.format("POST", os.getenv("WEBHOOK_PATH"), {
                ["Content-Type"] = "application/json",
                ["X-Twilio-Email-Event-Webhook-Signature"] = signature,
                ["X-Twilio-Email-Event-Webhook-Timestamp"] = timestamp,
            }, body)
        end
    end
end

function request()
    index = index % #requests + 1
    return requests[index]
end
