using System.Collections.Concurrent;

namespace WebConsole.Infrastructure.Identity;

/// <summary>
/// Remembers verified keys for a short time so each request does not read the database. Only successful verifications
/// are kept (unknown ids cannot fill it); the secret's hash is kept, never the secret; an invalidation on this node removes
/// the entry at once, other nodes notice within <see cref="Lifetime"/>; the key's own expiry is checked on every hit.
/// Thread-safe.
/// </summary>
public sealed class ApiKeyCache(TimeProvider time)
{
    /// <summary>How long a verification is trusted.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    // Enough for every active key of a large installation; beyond it the cache starts over rather than growing.
    private const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>The cached caller when <paramref name="secret"/> matches a fresh entry whose key has not expired.</summary>
    public CallerIdentity? TryGet(string id, string secret)
    {
        if (!_entries.TryGetValue(id, out var entry))
        {
            return null;
        }

        var now = time.GetUtcNow();
        if (now >= entry.CachedUntil || entry.KeyExpiresAt is { } expiry && now >= expiry)
        {
            _entries.TryRemove(new KeyValuePair<string, Entry>(id, entry));
            return null;
        }

        return ApiKeySecrets.Verify(secret, entry.SecretHash) ? entry.Caller : null;
    }

    /// <summary>Remembers a verified key.</summary>
    public void Add(string id, string secretHash, DateTimeOffset? keyExpiresAt, CallerIdentity caller)
    {
        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }

        _entries[id] = new Entry(secretHash, keyExpiresAt, caller, time.GetUtcNow() + Lifetime);
    }

    /// <summary>Forgets a key at once (invalidated, deleted or changed).</summary>
    public void Remove(string id) => _entries.TryRemove(id, out _);

    private sealed record Entry(string SecretHash, DateTimeOffset? KeyExpiresAt, CallerIdentity Caller, DateTimeOffset CachedUntil);
}
