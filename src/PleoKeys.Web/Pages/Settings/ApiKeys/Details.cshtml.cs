using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Pages.Settings.ApiKeys;

public class DetailsModel(AppDbContext db, CurrentCompany current, TimeProvider time, FormTickets tickets) : PageModel
{
    /// <summary>The ticket the delete dialog's form carries (see <see cref="DeleteModel"/>).</summary>
    public string DeleteTicket { get; private set; } = "";

    public ApiKey Key { get; private set; } = null!;
    public bool CanDelete { get; private set; }
    public string AccessText { get; private set; } = "";
    public DateOnly ExpiresOn { get; private set; }
    public KeyStatus Status { get; private set; } = KeyStatus.Active;
    public IReadOnlyList<(DateTime AtUtc, string Text)> History { get; private set; } = [];

    /// <summary>The key that replaced this one, when it was rolled.</summary>
    public (Guid Id, string Fingerprint)? ReplacedBy { get; private set; }

    /// <summary>The key this one replaced, when it was issued by a roll, and when that key's old secret stops.</summary>
    public (Guid Id, string Fingerprint, DateTime StopsAtUtc)? Replaces { get; private set; }

    public DateTime NowUtc { get; private set; }

    private TimeZoneInfo _zone = TimeZoneInfo.Utc;

    public DateTime Local(DateTime utc) => TimeZoneInfo.ConvertTimeFromUtc(utc, _zone);

    public async Task<IActionResult> OnGetAsync(Guid id)
    {
        var view = (await current.GetAsync())!;
        var key = await db.ApiKeys.AsNoTracking().CoveringCompany(view).SingleOrDefaultAsync(k => k.Id == id);
        if (key is null)
        {
            return NotFound();
        }

        Key = key;
        _zone = TimeZoneInfo.FindSystemTimeZoneById(view.Company.TimeZoneId);
        CanDelete = view.CanDelete(key.AccessLevel);
        DeleteTicket = CanDelete ? tickets.Issue(DeleteModel.FormName, view) : "";
        AccessText = key.AccessLevel == AccessLevel.Organisation
            ? $"Organisation (all entities of {view.OrganisationName})"
            : $"This entity ({view.Company.Name})";
        ExpiresOn = Expiry.LastDay(key.ExpiresAtUtc, _zone);
        NowUtc = time.GetUtcNow().UtcDateTime;
        Status = KeyStatus.Of(key.ExpiresAtUtc, NowUtc);
        if (key.ReplacedByKeyId is { } replacedBy)
        {
            ReplacedBy = await db.ApiKeys.AsNoTracking().Where(k => k.Id == replacedBy)
                .Select(k => new { k.Id, k.Environment, k.KeyId, k.Last4 }).ToListAsync() is [var next]
                ? (next.Id, ApiKeyFormat.Fingerprint(next.Environment, next.KeyId, next.Last4))
                : null;
        }

        var previous = await db.ApiKeys.AsNoTracking().Where(k => k.ReplacedByKeyId == key.Id && k.DeletedAtUtc == null)
            .Select(k => new { k.Id, k.Environment, k.KeyId, k.Last4, k.SecretStopsAtUtc }).FirstOrDefaultAsync();
        if (previous is not null)
        {
            Replaces = (previous.Id, ApiKeyFormat.Fingerprint(previous.Environment, previous.KeyId, previous.Last4), previous.SecretStopsAtUtc!.Value);
        }

        var events = await db.AuditEvents.AsNoTracking()
            .Where(e => e.ApiKeyId == key.Id)
            .OrderByDescending(e => e.AtUtc).Take(50)
            .Select(e => new { e.AtUtc, e.Action, e.ActorName, e.IpAddress, e.Detail })
            .ToListAsync();
        History = events.Select(e => (e.AtUtc, e.Action switch
        {
            AuditActions.KeyCreated => $"Created by {KeyName.Isolate(e.ActorName)} from {e.IpAddress}",
            AuditActions.KeyAuthFailures => $"Failed authentications: {e.Detail} (from {e.IpAddress})",
            AuditActions.KeyRolled => $"Rolled by {KeyName.Isolate(e.ActorName)} from {e.IpAddress}: {e.Detail}",
            AuditActions.KeySecretEnded => "The old secret stopped working",
            _ => $"{e.Action} by {KeyName.Isolate(e.ActorName)}",
        })).ToList();
        return Page();
    }
}
