using Microsoft.Extensions.Localization;

namespace PleoKeys.Web.Pages.Settings.ApiKeys;

/// <summary>The key domain's messages (KeyName, AllowedNetworks), shown on the pages in the request's language.</summary>
public static class ApiKeyMessages
{
    /// <summary>
    /// The message in <paramref name="t"/>'s language when it is one of the resources (the fixed messages); a
    /// message with values in it (a character's code, an address) stays as the key domain wrote it, in English.
    /// </summary>
    public static string Translate(IStringLocalizer t, string message) =>
        t[message] is { ResourceNotFound: false } found ? found.Value : message;
}
