namespace PleoKeys.Web.ApiKeys;

/// <summary>
/// Tells every verifier that a key changed (deleted, rolled, activated, its company's access switched), so its cached
/// state is re-read on the next request. In this process that is immediate; other instances hear of it through
/// <see cref="IKeyChangeBroadcaster"/> (PostgreSQL NOTIFY), or else by polling the key's
/// <see cref="Data.ApiKey.ChangedAtUtc"/>, which the caller has set in the same commit (KeyChangePoller).
/// </summary>
public sealed class KeyRevocation(KeyCache cache, IEnumerable<IKeyChangeBroadcaster> broadcasters)
{
    public async Task KeyChangedAsync(string keyId)
    {
        cache.Invalidate(keyId);
        foreach (var b in broadcasters)
        {
            await b.BroadcastAsync(keyId);
        }
    }
}

/// <summary>Carries key changes to other app instances (PostgreSQL NOTIFY); none with SQLite.</summary>
public interface IKeyChangeBroadcaster
{
    Task BroadcastAsync(string keyId);
}
