using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.ApiKeys;

/// <summary>
/// Carries a new key from the request that creates it to the one page that shows it, once. The entry is a row
/// (so any instance can show it) holding the key encrypted with Data Protection, bound to the creating user and
/// sign-in session (the security stamp, which signing out replaces, and the session's own id), expiring after <see cref="Lifetime"/>, and
/// deleted by the request that shows it: a reload, the back button, a second tab or a replayed URL or cookie
/// finds nothing. The plaintext exists only in the memory of those two requests.
/// </summary>
public sealed class KeyReveals(IDataProtectionProvider dataProtection, TimeProvider time)
{
    /// <summary>How long a new key waits to be shown: the redirect after Create takes milliseconds.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private readonly IDataProtector _protector = dataProtection.CreateProtector("PleoKeys.KeyReveal.v1");

    /// <summary>A reveal for the new key, to be saved in the transaction that creates it.</summary>
    public KeyReveal Create(Guid apiKeyId, string userId, string sessionStamp, string key) => new()
    {
        ApiKeyId = apiKeyId,
        UserId = userId,
        SessionStamp = sessionStamp,
        ProtectedKey = _protector.Protect(key),
        ExpiresAtUtc = time.GetUtcNow().UtcDateTime + Lifetime,
    };

    /// <summary>
    /// Takes the key's reveal for this user and session: the plaintext key, or null when there is none to show
    /// (shown already, expired, or another user's or session's). Of two requests racing for one reveal only the
    /// one whose DELETE removed the row shows it.
    /// </summary>
    public async Task<string?> TakeAsync(AppDbContext db, Guid apiKeyId, string userId, string sessionStamp)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var mine = db.KeyReveals.Where(r => r.ApiKeyId == apiKeyId && r.UserId == userId && r.SessionStamp == sessionStamp && r.ExpiresAtUtc > now);
        var entry = await mine.AsNoTracking().SingleOrDefaultAsync();
        if (entry is null || await mine.ExecuteDeleteAsync() != 1)
        {
            return null;
        }

        return _protector.Unprotect(entry.ProtectedKey);
    }

    /// <summary>True when the key still waits to be shown to this user and session (a repeated Create submission may link to it).</summary>
    public Task<bool> IsPendingAsync(AppDbContext db, Guid apiKeyId, string userId, string sessionStamp)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return db.KeyReveals.AnyAsync(r => r.ApiKeyId == apiKeyId && r.UserId == userId && r.SessionStamp == sessionStamp && r.ExpiresAtUtc > now);
    }

    /// <summary>
    /// The key a form submission already issued (Create and Roll store the form's submission id on it), and whether
    /// its reveal still waits for this user and session; null when the submission issued nothing.
    /// </summary>
    public async Task<(Guid Id, string Name, bool RevealPending)?> IssuedBySubmissionAsync(AppDbContext db, string submissionId, string userId, string sessionStamp)
    {
        var existing = await db.ApiKeys.AsNoTracking().Where(k => k.SubmissionId == submissionId)
            .Select(k => new { k.Id, k.Name }).SingleOrDefaultAsync();
        return existing is null ? null : (existing.Id, existing.Name, await IsPendingAsync(db, existing.Id, userId, sessionStamp));
    }

    /// <summary>Deletes reveals that were never shown and have expired (a closed tab, a crash between create and show).</summary>
    public Task<int> SweepAsync(AppDbContext db)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return db.KeyReveals.Where(r => r.ExpiresAtUtc <= now).ExecuteDeleteAsync();
    }
}
