using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Pages.Settings.ApiKeys;

public class DeleteModel(AppDbContext db, CurrentCompany current, TimeProvider time, KeyRevocation revocation, ILogger<DeleteModel> logger) : PageModel
{
    public Guid Id { get; private set; }
    public string KeyName { get; private set; } = "";

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
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(Guid id)
    {
        var view = (await current.GetAsync())!;
        var key = await db.ApiKeys.CoveringCompany(view).SingleOrDefaultAsync(k => k.Id == id);
        if (key is null)
        {
            return NotFound();
        }

        if (!view.CanDelete(key.AccessLevel))
        {
            return Forbid();
        }

        // The row and its hash stay, so the key's holder is told "deleted" rather than "unknown".
        var now = time.GetUtcNow().UtcDateTime;
        key.DeletedAtUtc = now;
        key.DeletedByUserId = view.UserId;
        db.AuditEvents.Add(new AuditEvent
        {
            AtUtc = now,
            Action = AuditActions.KeyDeleted,
            ActorUserId = view.UserId,
            ActorName = view.UserName,
            IpAddress = HttpContext.Connection.RemoteIpAddress?.ToString(),
            CompanyId = view.Company.Id,
            ApiKeyId = key.Id,
            KeyFingerprint = key.Fingerprint,
            Detail = $"\"{key.Name}\"",
        });
        await db.SaveChangesAsync();
        await revocation.KeyChangedAsync(key.KeyId);
        logger.LogInformation("API key {KeyFingerprint} ({KeyRowId}) deleted by {UserId}", key.Fingerprint, key.Id, view.UserId);

        StatusMessage = $"API key “{PleoKeys.Web.ApiKeys.KeyName.Isolate(key.Name)}” was deleted. Integrations using it can no longer connect.";
        return RedirectToPage("Index");
    }
}
