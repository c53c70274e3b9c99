using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Web.Data;

/// <summary>
/// Commands for Pleo's operators, run beside the app rather than through it: API key access is set
/// during onboarding, never by the customer.
/// <c>dotnet run --project src/PleoKeys.Web -- api-key-access "Fjord Bikes AS" on</c>
/// </summary>
public static class OperatorCommands
{
    public const string ApiKeyAccess = "api-key-access";

    /// <summary>Replaces the server secret of the keys' digests (see <see cref="KeyDigests"/>).</summary>
    public const string RotateKeyDigestSecret = "rotate-key-digest-secret";

    /// <summary>Who the audit trail names as the actor of a switch.</summary>
    public const string Actor = "operator command";

    /// <summary>Runs the command named by the arguments, if any; returns its exit code, or null to start the app.</summary>
    public static async Task<int?> RunAsync(IServiceProvider services, string[] args, TextWriter output)
    {
        if (args is [RotateKeyDigestSecret])
        {
            var secretId = KeyDigests.Rotate(
                services.GetRequiredService<Microsoft.Extensions.Options.IOptions<PleoKeysOptions>>().Value, services.GetRequiredService<IHostEnvironment>());
            await output.WriteLineAsync(
                $"The key digest secret is now {secretId}. Copy it to every instance and restart them: each key's next call costs one BCrypt verify and stores a digest under the new secret.");
            return 0;
        }

        if (args.Length == 0 || args[0] != ApiKeyAccess)
        {
            return null;
        }

        if (args.Length != 3 || args[2] is not ("on" or "off"))
        {
            await output.WriteLineAsync($"Usage: {ApiKeyAccess} <company name or id> on|off");
            return 2;
        }

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var target = args[1];
        var companies = Guid.TryParse(target, out var id)
            ? await db.Companies.AsNoTracking().Include(c => c.Organisation).Where(c => c.Id == id).ToListAsync()
            : await db.Companies.AsNoTracking().Include(c => c.Organisation).Where(c => c.Name == target).ToListAsync();
        if (companies.Count != 1)
        {
            await output.WriteLineAsync(companies.Count == 0
                ? $"No company is named or has the id \"{target}\"."
                : $"Several companies are named \"{target}\"; give its id instead.");
            return 1;
        }

        var company = companies[0];
        var on = args[2] == "on";
        var switched = await SwitchAsync(scope.ServiceProvider, db, company, on);
        if (switched is null)
        {
            await output.WriteLineAsync($"API key access for {company.Name} ({company.Id}) was already {args[2]}; nothing changed.");
            return 0;
        }

        var (entityKeys, organisationKeys) = switched.Value;
        await output.WriteLineAsync(
            $"API key access for {company.Name} ({company.Id}) is now {args[2]}: " +
            $"{Keys(entityKeys)} {(on ? "restored" : "suspended")}; " +
            $"{Keys(organisationKeys, "organisation key")} of {company.Organisation.Name} " +
            $"{(on ? "reach" : "no longer reach")}{(organisationKeys == 1 ? "es" : "")} it{(on ? " again" : "")}.");
        return 0;
    }

    private static string Keys(int n, string what = "key") => n == 1 ? $"1 {what}" : $"{n} {what}s";

    /// <summary>
    /// Switches the company's access, if it is not so already, and tells every instance: the company's keys are
    /// stamped as changed and announced (KeyRevocation), exactly as a deletion is, so each instance re-reads them
    /// at once (PostgreSQL NOTIFY) or at its next poll (KeyChangePoller). Nothing is deleted: switching back on
    /// restores the keys. Returns the active entity keys suspended or restored and the active organisation keys
    /// whose reach changed, or null when the access already was so (another operator may have just switched it).
    /// </summary>
    private static async Task<(int EntityKeys, int OrganisationKeys)?> SwitchAsync(IServiceProvider services, AppDbContext db, Company company, bool on)
    {
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        List<string> keyIds;
        int entityKeys, organisationKeys;
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            // Conditional, so of two operators switching at once exactly one switches and writes the audit row.
            if (await db.Companies.Where(c => c.Id == company.Id && c.ApiKeyAccess != on)
                    .ExecuteUpdateAsync(s => s.SetProperty(c => c.ApiKeyAccess, on)) == 0)
            {
                return null;
            }

            var companyKeys = db.ApiKeys.Where(k => k.CompanyId == company.Id && k.DeletedAtUtc == null);
            keyIds = await companyKeys.Select(k => k.KeyId).ToListAsync();
            await companyKeys.ExecuteUpdateAsync(s => s.SetProperty(k => k.ChangedAtUtc, now).SetProperty(k => k.ChangeCount, k => k.ChangeCount + 1));
            entityKeys = await companyKeys.CountAsync(k => k.AccessLevel == AccessLevel.Company && k.ExpiresAtUtc > now);
            organisationKeys = await db.ApiKeys.CountAsync(k => k.OrganisationId == company.OrganisationId
                && k.AccessLevel == AccessLevel.Organisation && k.DeletedAtUtc == null && k.ExpiresAtUtc > now);
            db.AuditEvents.Add(new AuditEvent
            {
                AtUtc = now,
                Action = AuditActions.ApiKeyAccessSwitched,
                ActorName = Actor,
                CompanyId = company.Id,
                Detail = $"API key access for {company.Name}: {(on ? "off → on" : "on → off")}; " +
                    $"{Keys(entityKeys)} {(on ? "restored" : "suspended")} (run as {Environment.UserName} on {Environment.MachineName})",
            });
            await db.SaveChangesAsync();
            await transaction.CommitAsync();
        }

        // After the commit, as after a deletion: a notice must find the new state when it arrives.
        var revocation = services.GetRequiredService<KeyRevocation>();
        foreach (var keyId in keyIds)
        {
            await revocation.KeyChangedAsync(keyId);
        }

        return (entityKeys, organisationKeys);
    }
}
