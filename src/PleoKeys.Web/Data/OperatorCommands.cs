using Microsoft.EntityFrameworkCore;

namespace PleoKeys.Web.Data;

/// <summary>
/// Commands for Pleo's operators, run beside the app rather than through it: API key access is set
/// during onboarding, never by the customer.
/// <c>dotnet run --project src/PleoKeys.Web -- api-key-access "Fjord Bikes AS" on</c>
/// </summary>
public static class OperatorCommands
{
    public const string ApiKeyAccess = "api-key-access";

    /// <summary>Runs the command named by the arguments, if any; returns its exit code, or null to start the app.</summary>
    public static async Task<int?> RunAsync(IServiceProvider services, string[] args, TextWriter output)
    {
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
            ? await db.Companies.Where(c => c.Id == id).ToListAsync()
            : await db.Companies.Where(c => c.Name == target).ToListAsync();
        if (companies.Count != 1)
        {
            await output.WriteLineAsync(companies.Count == 0
                ? $"No company is named or has the id \"{target}\"."
                : $"Several companies are named \"{target}\"; give its id instead.");
            return 1;
        }

        var company = companies[0];
        company.ApiKeyAccess = args[2] == "on";
        await db.SaveChangesAsync();
        await output.WriteLineAsync($"API key access for {company.Name} ({company.Id}) is now {args[2]}.");
        return 0;
    }
}
