/// The save of a snapshot, as one Redis script: the compare and the set are atomic (Redis
/// runs a script with nothing else in between).
///
/// KEYS[1] the snapshot's hash; ARGV: version, fingerprint, state, ttl seconds (0: none).
/// The stored snapshot is kept only when it has the same fingerprint and a higher version.
/// Versions are compared as decimal strings (longer is larger, then bytewise), because
/// Redis's Lua numbers are doubles, exact only to 2^53, and versions are Int64.
/// Returns 1 when it stored the snapshot, 0 when it kept the stored one.
enum RedisSnapshotScript {
    static let source = """
        local stored = redis.call('HMGET', KEYS[1], 'f', 'v')
        local version = ARGV[1]
        if stored[1] == ARGV[2] and stored[2] then
          local old = stored[2]
          if #old > #version or (#old == #version and old > version) then return 0 end
        end
        redis.call('HSET', KEYS[1], 'v', version, 'f', ARGV[2], 's', ARGV[3])
        if ARGV[4] ~= '0' then
          redis.call('EXPIRE', KEYS[1], ARGV[4])
        else
          redis.call('PERSIST', KEYS[1])
        end
        return 1
        """
}
