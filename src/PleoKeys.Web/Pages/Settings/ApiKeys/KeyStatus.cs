namespace PleoKeys.Web.Pages.Settings.ApiKeys;

public sealed record KeyStatus(string Text, string CssClass)
{
    public static readonly KeyStatus Active = new("Active", "active");
    public static readonly KeyStatus ExpiresSoon = new("Expires soon", "soon");
    public static readonly KeyStatus Expired = new("Expired", "expired");

    public static KeyStatus Of(DateTime expiresAtUtc, DateTime nowUtc) =>
        expiresAtUtc <= nowUtc ? Expired
        : expiresAtUtc <= nowUtc.AddDays(7) ? ExpiresSoon
        : Active;
}
