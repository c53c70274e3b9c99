using Microsoft.AspNetCore.Authorization;

namespace PleoKeys.Web.Auth;

/// <summary>
/// Admin or Bookkeeper of the current company, company onboarded for API keys, work email. The requirement is its own
/// handler (the framework's pattern for a requirement with one way to meet it), run by the framework's
/// PassThroughAuthorizationHandler. It resolves <see cref="CurrentCompany"/> (a DbContext and a UserManager) from the
/// request's services only when it is evaluated: a handler registered in DI would be built for every authorization,
/// an API call's included.
/// </summary>
public sealed class ManageApiKeysRequirement : AuthorizationHandler<ManageApiKeysRequirement>, IAuthorizationRequirement
{
    public const string Policy = "ManageApiKeys";

    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, ManageApiKeysRequirement requirement)
    {
        var view = context.Resource is HttpContext http ? await http.RequestServices.GetRequiredService<CurrentCompany>().GetAsync() : null;
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
