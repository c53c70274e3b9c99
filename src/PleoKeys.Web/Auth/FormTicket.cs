using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace PleoKeys.Web.Auth;

/// <summary>
/// What a form was rendered for, carried in the form itself: the user, the company the form showed, and a
/// single-use submission id. Protected with Data Protection, so a client can replay a ticket but not make or
/// change one. A handler that acts refuses a ticket whose company is no longer the session's (a second tab
/// switched company meanwhile) and, for a form that creates something, records the submission id with what it
/// created under a unique index, so a repeated submission creates nothing.
/// </summary>
/// <param name="SubmissionId">32 hex characters (128 random bits), unique per rendered form.</param>
public sealed record FormTicket(string SubmissionId, string UserId, Guid CompanyId)
{
    /// <summary>The hidden field the ticket travels in.</summary>
    public const string FieldName = "FormTicket";
}

/// <summary>Issues and reads <see cref="FormTicket"/>s; one purpose per form kind, so a Delete ticket never passes as a Create one.</summary>
public sealed class FormTickets(IDataProtectionProvider dataProtection)
{
    private const string Purpose = "PleoKeys.FormTicket.v1";

    public string Issue(string form, CompanyView view) =>
        dataProtection.CreateProtector(Purpose, form).Protect(string.Join('|',
            RandomNumberGenerator.GetHexString(32, lowercase: true), view.UserId, view.Company.Id.ToString("D", CultureInfo.InvariantCulture)));

    /// <summary>The ticket, or null when it is missing, tampered with, made for another form or another user.</summary>
    public FormTicket? Read(string form, string? value, CompanyView view)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 2000)
        {
            return null;
        }

        string text;
        try
        {
            text = dataProtection.CreateProtector(Purpose, form).Unprotect(value);
        }
        catch (CryptographicException)
        {
            return null;
        }

        var parts = text.Split('|');
        return parts.Length == 3 && parts[1] == view.UserId && Guid.TryParse(parts[2], out var companyId)
            ? new FormTicket(parts[0], parts[1], companyId)
            : null;
    }
}
