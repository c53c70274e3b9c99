using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.ApiKeys;

/// <summary>The key rows through a short-lived DbContext per call (the verifier is a singleton).</summary>
public sealed class EfKeyStore(IServiceScopeFactory scopes) : IKeyStore
{
    /// <summary>
    /// The lookup of every key this instance has not read yet, the one query of a verification (after a restart,
    /// each active key's first call runs it). Compiled once (EF Core's compiled queries), so a call skips building
    /// and matching the LINQ expression. One per store, not static: a compiled query serves one EF Core model, and one
    /// process may host apps on different providers (the tests do).
    /// </summary>
    private readonly Func<AppDbContext, string, CancellationToken, Task<KeyRow?>> _findRow =
        EF.CompileAsyncQuery((AppDbContext db, string keyId, CancellationToken ct) => db.ApiKeys.AsNoTracking()
            .Where(k => k.KeyId == keyId)
            .Select(k => new KeyRow(
                k.Id, k.KeyId, k.SecretHash, k.Last4, k.Environment, k.AccessLevel, k.CompanyId, k.OrganisationId,
                k.Scopes, k.CreatedAtUtc, k.ExpiresAtUtc, k.DeletedAtUtc, k.Company.TimeZoneId, k.Name, k.InstallationActivatedAtUtc,
                k.Company.Name, k.Company.ApiKeyAccess,
                k.RolledAtUtc, k.SecretStopsAtUtc, k.SecretDigest, k.DigestSecretId, k.AllowedNetworks))
            .SingleOrDefault());

    private sealed record KeyRow(
        Guid Id, string KeyId, string SecretHash, string Last4, KeyEnvironment Environment, AccessLevel AccessLevel, Guid CompanyId,
        Guid OrganisationId, string Scopes, DateTime CreatedAtUtc, DateTime ExpiresAtUtc, DateTime? DeletedAtUtc, string TimeZoneId,
        string Name, DateTime? InstallationActivatedAtUtc, string CompanyName, bool ApiKeyAccess, DateTime? RolledAtUtc,
        DateTime? SecretStopsAtUtc, byte[]? SecretDigest, string? DigestSecretId, string AllowedNetworks);

    public async Task<KeySnapshot?> FindAsync(string keyId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var row = await _findRow(db, keyId, ct);
        return row is null
            ? null
            : new KeySnapshot(row.Id, row.KeyId, row.SecretHash, row.Last4, row.Environment, row.AccessLevel, row.CompanyId,
                row.OrganisationId, Scopes.Split(row.Scopes), row.CreatedAtUtc, row.ExpiresAtUtc, row.DeletedAtUtc, row.TimeZoneId)
            {
                Name = row.Name,
                InstallationActivatedAtUtc = row.InstallationActivatedAtUtc,
                CompanyName = row.CompanyName,
                CompanyApiKeyAccess = row.ApiKeyAccess,
                RolledAtUtc = row.RolledAtUtc,
                SecretStopsAtUtc = row.SecretStopsAtUtc,
                Digest = row.SecretDigest,
                DigestSecretId = row.DigestSecretId,
                AllowedNetworks = AllowedNetworks.Split(row.AllowedNetworks),
            };
    }

    public async Task StoreDigestAsync(KeySnapshot key, byte[] digest, string secretId)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        // Not a change other instances must hear of: the digest only spares them a BCrypt verify of their own.
        await db.ApiKeys.Where(k => k.Id == key.Id && k.SecretHash == key.SecretHash)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.SecretDigest, digest).SetProperty(k => k.DigestSecretId, secretId));
    }
}

public static class KeyLookupWarmUp
{
    /// <summary>Lookups run at start: more than the 30 calls after which the runtime re-compiles hot framework code optimised.</summary>
    public const int Lookups = 40;

    /// <summary>
    /// Pooled DbContexts built at start: as many as a burst of first calls at 32 connections keeps busy at once (the
    /// restart scenario of <c>bench/run.sh</c>). EF Core's pool keeps them, so such a burst finds them built. Measured
    /// there with 300 keys: p99 26-37 ms instead of 113-145 ms.
    /// </summary>
    public const int Contexts = 32;

    /// <summary>
    /// Prepares the key lookup (<see cref="IKeyStore.FindAsync"/>) before the instance takes traffic. After a deploy,
    /// every active key's first call makes this lookup; without a warm-up the first burst of them would pay for what
    /// is built once: the JIT and EF Core compiling the query (tens of milliseconds), and a pooled DbContext built for
    /// each call running at once (its internal services, about a third of a cold call's CPU in <c>perf</c>). So
    /// <see cref="Contexts"/> contexts are rented together, each runs one query, and all go back to the pool; then the
    /// lookup runs <see cref="Lookups"/> times for the newest key. Reads only; no key's state is kept. Physical
    /// connections are left to the providers' pools (for PostgreSQL, <c>Minimum Pool Size</c> is the operator's).
    /// </summary>
    public static async Task WarmUpKeyLookupAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        try
        {
            var rented = new List<AsyncServiceScope>(Contexts);
            string? keyId = null;
            try
            {
                for (var i = 0; i < Contexts; i++)
                {
                    var scope = services.CreateAsyncScope();
                    rented.Add(scope);
                    var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                    // The newest key once (no index orders all keys by creation); then one indexed read per context.
                    keyId ??= await db.ApiKeys.OrderByDescending(k => k.CreatedAtUtc).Select(k => k.KeyId).FirstOrDefaultAsync(ct)
                        ?? ApiKeyFormat.NewKeyId();
                    await db.ApiKeys.AnyAsync(k => k.KeyId == keyId, ct);
                }
            }
            finally
            {
                // Disposing a scope returns its context to EF Core's pool.
                foreach (var scope in rented)
                {
                    await scope.DisposeAsync();
                }
            }

            var store = services.GetRequiredService<IKeyStore>();
            keyId ??= ApiKeyFormat.NewKeyId();
            for (var i = 0; i < Lookups; i++)
            {
                await store.FindAsync(keyId, ct);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Only a head start: the app starts anyway, and each request handles the database as it finds it.
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(KeyLookupWarmUp))
                .LogWarning(e, "Could not warm up the key lookup; the first API calls compile it instead.");
        }
    }
}
