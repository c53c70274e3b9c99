using Microsoft.AspNetCore.Authorization;

namespace PleoKeys.Web.Auth;

/// <summary>Admin or Bookkeeper of the current company, company onboarded for API keys, work email.</summary>
public sealed class ManageApiKeysRequirement : IAuthorizationRequirement
{
    public const string Policy = "ManageApiKeys";
}

public sealed class ManageApiKeysHandler(CurrentCompany current) : AuthorizationHandler<ManageApiKeysRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, ManageApiKeysRequirement requirement)
    {
        var view = await current.GetAsync();
        if (view is { CanManageKeys: true })
        {
            context.Succeed(requirement);
        }
        else
        {
            context.Fail(new AuthorizationFailureReason(this, view?.DenialMessage ?? "You are not a member of any company."));
        }
    }
}
