using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Pages.Settings.ApiKeys;

/// <summary>
/// Deletes a key. The form carries a <see cref="FormTicket"/>, so it acts only on the company it was rendered
/// for; the deletion is one conditional update (<c>WHERE DeletedAtUtc IS NULL</c>), so of two concurrent
/// deletes exactly one wins and writes the audit row, and the other is told the key was already deleted.
/// </summary>
public class DeleteModel(AppDbContext db, CurrentCompany current, TimeProvider time, KeyRevocation revocation, FormTickets tickets,
    Microsoft.Extensions.Localization.IStringLocalizer<SharedResource> t, ILogger<DeleteModel> logger) : PageModel
{
    public const string FormName = "delete-key";

    public Guid Id { get; private set; }
    public string KeyName { get; private set; } = "";

    /// <summary>Why the submitted form was not acted on; the page then shows this instead of the confirmation.</summary>
    public string? Error { get; private set; }

    /// <summary>The ticket the rendered form carries.</summary>
    public string NewTicket { get; private set; } = "";

    [BindProperty(Name = FormTicket.FieldName)]
    public string? Ticket { get; set; }

    [TempData]
    public string? StatusMessage { get; set; }

    public async Task<IActionResult> OnGetAsync(Guid id)
    {
        var view = (await current.GetAsync())!;
        var key = await db.ApiKeys.AsNoTracking().CoveringCompany(view)
            .Where(k => k.Id == id).Select(k => new { k.Name, k.AccessLevel }).SingleOrDefaultAsync();
        if (key is null)
        {
            return NotFound();
        }

        if (!view.CanDelete(key.AccessLevel))
        {
            return Forbid();
        }

        Id = id;
        KeyName = key.Name;
        NewTicket = tickets.Issue(FormName, view);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(Guid id)
    {
        var view = (await current.GetAsync())!;
        Id = id;

        // A form rendered for another company than the session's now (a second tab switched) acts on nothing.
        var ticket = tickets.Read(FormName, Ticket, view);
        if (ticket is not null && ticket.CompanyId != view.Company.Id)
        {
            var formCompany = view.Choices.FirstOrDefault(c => c.Id == ticket.CompanyId)?.Name ?? t["another company"];
            return Refused(StatusCodes.Status409Conflict, t["This form was opened for {0}, but you have since switched to {1}. Nothing was deleted. Switch back to {0} to delete the key there.",
                formCompany, view.Company.Name]);
        }

        var key = await db.ApiKeys.AsNoTracking().ReachableFrom(view)
            .Where(k => k.Id == id)
            .Select(k => new { k.Id, k.KeyId, k.Name, k.AccessLevel, k.Environment, k.Last4, k.DeletedAtUtc })
            .SingleOrDefaultAsync();
        if (key is null)
        {
            return NotFound();
        }

        if (!view.CanDelete(key.AccessLevel))
        {
            return Forbid();
        }

        if (key.DeletedAtUtc is not null)
        {
            return AlreadyDeleted(key.Name);
        }

        // Only a form this app rendered for this user acts (a forged or stale post is refused).
        if (ticket is null)
        {
            return Refused(StatusCodes.Status400BadRequest, t["This form has expired or was not made for you. Nothing was deleted; open the key and delete it again."]);
        }

        // One conditional update decides the race; the audit row commits with it or not at all.
        var now = time.GetUtcNow().UtcDateTime;
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            var deleted = await db.ApiKeys
                .Where(k => k.Id == id && k.DeletedAtUtc == null)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(k => k.DeletedAtUtc, now)
                    .SetProperty(k => k.DeletedByUserId, view.UserId)
                    // Recorded for every instance's poller (see ApiKey.MarkChanged).
                    .SetProperty(k => k.ChangedAtUtc, now)
                    .SetProperty(k => k.ChangeCount, k => k.ChangeCount + 1));
            if (deleted == 0)
            {
                // Another request (a second tab, a colleague, a double click) deleted it first and audited it.
                return AlreadyDeleted(key.Name);
            }

            var fingerprint = ApiKeyFormat.Fingerprint(key.Environment, key.KeyId, key.Last4);
            db.AuditEvents.Add(new AuditEvent
            {
                AtUtc = now,
                Action = AuditActions.KeyDeleted,
                ActorUserId = view.UserId,
                ActorName = view.UserName,
                IpAddress = HttpContext.Connection.RemoteIpAddress?.ToString(),
                CompanyId = view.Company.Id,
                ApiKeyId = key.Id,
                KeyFingerprint = fingerprint,
                Detail = $"\"{key.Name}\"",
            });
            await db.SaveChangesAsync();
            await transaction.CommitAsync();
            logger.LogInformation("API key {KeyFingerprint} ({KeyRowId}) deleted by {UserId}", fingerprint, key.Id, view.UserId);
        }

        await revocation.KeyChangedAsync(key.KeyId);
        StatusMessage = t["API key “{0}” was deleted. Integrations using it can no longer connect.", PleoKeys.Web.ApiKeys.KeyName.Isolate(key.Name)];
        return RedirectToPage("Index");
    }

    private RedirectToPageResult AlreadyDeleted(string name)
    {
        StatusMessage = t["API key “{0}” was already deleted. Integrations using it can no longer connect.", PleoKeys.Web.ApiKeys.KeyName.Isolate(name)];
        return RedirectToPage("Index");
    }

    private PageResult Refused(int status, string error)
    {
        Error = error;
        Response.StatusCode = status;
        return Page();
    }
}
