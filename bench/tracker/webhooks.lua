-- wrk script: POST SendGrid-signed Event Webhook batches from bench/tracker's sendgrid.txt
-- (signature, timestamp, body per line) to one account's URL. The threads split the file
-- between them so no batch is sent twice until the file wraps around. PART=warmup posts only
-- the first WARMUP_BATCHES lines, PART=run only the lines after them, so the measured run
-- never posts a batch the warm-up stored already.
local requests = {}
local index = 0
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("id", counter)
end

function init(args)
    local threads = tonumber(os.getenv("WRK_THREADS") or "1")
    local warmup = tonumber(os.getenv("WARMUP_BATCHES") or "0")
    local part = os.getenv("PART") or "run"
    local n = 0
    for line in io.lines(os.getenv("SENDGRID_FILE")) do
        n = n + 1
        local mine = (part == "warmup") == (n <= warmup)
        if mine and n % threads == (id or 1) - 1 then
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
