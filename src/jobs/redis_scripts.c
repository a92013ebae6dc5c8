/* redis_scripts — the Lua scripts (see redis_scripts.h for what each takes and returns).
 * They are sent with EVAL every time: Redis caches the compiled script by its SHA, and a
 * restarted Redis (which forgets loaded scripts) needs no special case. */
#include "jobs/redis_scripts.h"

const char RS_PUSH[] =
    "local st = redis.call('HMGET', KEYS[1], 'state', 'attempt', 'run')\n"
    "if st[1] == 'done' and st[3] == ARGV[8] then return 0 end\n"
    "if st[1] == 'evicted' and st[2] == ARGV[2] then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'state', 'queued', 'attempt', ARGV[2], 'tries', ARGV[3],\n"
    "           'model', ARGV[4], 'voice', ARGV[5], 'text', ARGV[6], 'run', ARGV[8])\n"
    "redis.call('HDEL', KEYS[1], 'worker', 'claimed_at')\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[7])\n"
    "redis.call('RPUSH', KEYS[2], ARGV[1] .. ':' .. ARGV[2])\n"
    "return 1\n";

const char RS_CLAIM[] =
    "local st = redis.call('HMGET', KEYS[1], 'state', 'attempt', 'model', 'voice', 'text', 'tries')\n"
    "if st[1] ~= 'queued' or st[2] ~= ARGV[1] then return false end\n"
    "local t = redis.call('TIME')\n"
    "redis.call('HSET', KEYS[1], 'state', 'processing', 'worker', ARGV[2], 'claimed_at', t[1])\n"
    "redis.call('RPUSH', KEYS[2], 'P1 ' .. ARGV[3] .. ' ' .. ARGV[1] .. ' ' .. ARGV[2] .. '\\n')\n"
    "redis.call('ZADD', KEYS[3], t[1], ARGV[2])\n"
    "return {st[3], st[4], st[5], st[6]}\n";

const char RS_WITHDRAW[] =
    "local st = redis.call('HMGET', KEYS[1], 'state', 'attempt', 'run')\n"
    "if st[1] == 'done' and st[3] == ARGV[4] then return 0 end\n"
    "if st[1] == 'processing' and st[2] == ARGV[2] then return 0 end\n"
    "if st[1] == 'queued' and st[2] == ARGV[2] then\n"
    "  redis.call('LREM', KEYS[2], 1, ARGV[1] .. ':' .. ARGV[2])\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'state', 'evicted', 'attempt', ARGV[2], 'run', ARGV[4])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[3])\n"
    "return 1\n";

const char RS_COMPLETE[] =
    "redis.call('HSET', KEYS[1], 'state', 'done', 'run', ARGV[2])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[1])\n"
    "return 1\n";

const char RS_CHECK[] =
    "local st = redis.call('HMGET', KEYS[1], 'state', 'attempt', 'run')\n"
    "if st[1] == 'done' and st[3] == ARGV[3] then return 3 end\n"
    "if st[2] ~= ARGV[2] then return 0 end\n"
    "if st[1] == 'processing' then return 2 end\n"
    "if st[1] == 'queued' and redis.call('LPOS', KEYS[2], ARGV[1] .. ':' .. ARGV[2]) then\n"
    "  return 1\n"
    "end\n"
    "return 0\n";

const char RS_DEAD[] =
    "redis.call('HSET', KEYS[1], 'state', 'dead')\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
    "redis.call('LPUSH', KEYS[2], ARGV[1])\n"
    "redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)\n"
    "return 1\n";

const char RS_HEARTBEAT[] =
    "local t = redis.call('TIME')\n"
    "redis.call('ZADD', KEYS[1], t[1], ARGV[1])\n"
    "return 1\n";

const char RS_LIVE_WORKERS[] =
    "local t = redis.call('TIME')\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (tonumber(t[1]) - tonumber(ARGV[1])))\n"
    "return redis.call('ZCARD', KEYS[1])\n";
