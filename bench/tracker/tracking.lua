-- wrk script: GET signed open pixels and click links, rotating through bench/tracker's
-- tracking.txt (each thread starts at its own offset), with a mail client's user agent.
local paths = {}
local index = 0
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("offset", counter * 7919)
end

function init(args)
    for line in io.lines(os.getenv("TRACKING_FILE")) do paths[#paths + 1] = line end
    index = (offset or 0) % #paths
end

local headers = { ["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0" }

function request()
    index = index % #paths + 1
    return wrk.format("GET", paths[index], headers)
end
