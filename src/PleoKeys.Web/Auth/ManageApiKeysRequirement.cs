using Microsoft.AspNetCore.Authorization;

namespace PleoKeys.Web.Auth;

/// <summary>Admin or Bookkeeper of the current company, company onboarded for API keys, work email.</summary>
public sealed class ManageApiKeysRequirement : IAuthorizationRequirement
{
    public const string Policy = "ManageApiKeys";
}

/// <remarks>
/// Every authorization, an API call's included, builds every registered handler. So this one takes the
/// request's services and resolves <see cref="CurrentCompany"/> (a DbContext and a UserManager) only when
/// its requirement is actually evaluated; depending on it directly cost each API request a third of its time.
/// </remarks>
public sealed class ManageApiKeysHandler(IServiceProvider services) : AuthorizationHandler<ManageApiKeysRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, ManageApiKeysRequirement requirement)
    {
        var view = await services.GetRequiredService<CurrentCompany>().GetAsync();
        if (view is { CanManageKeys: true })
        {
            context.Succeed(requirement);
        }
        else
        {
            // The reason is for logs and handlers; the page explains it in the user's language (Pages/Status).
            context.Fail(new AuthorizationFailureReason(this, (view?.Denial ?? KeyAccessDenial.NoCompany).ToString()));
        }
    }
}
