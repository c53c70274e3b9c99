using Microsoft.AspNetCore.Html;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Web.Pages;

/// <summary>
/// Shows plain text that holds names between FSI and PDI (<see cref="KeyName.Isolate"/>: status messages,
/// history lines) as HTML: each isolated name in a <c>&lt;bdi&gt;</c>, all of it HTML-encoded. Markup rather than
/// the invisible characters, as the W3C advises for HTML (https://www.w3.org/International/articles/inline-bidi-markup/).
/// </summary>
public static class IsolatedText
{
    private const char FirstStrongIsolate = '\u2068';
    private const char PopDirectionalIsolate = '\u2069';

    public static IHtmlContent Html(string? text)
    {
        var html = new HtmlContentBuilder();
        var rest = text ?? "";
        while (rest.IndexOf(FirstStrongIsolate, StringComparison.Ordinal) is var start and >= 0)
        {
            html.Append(rest[..start]);
            var end = rest.IndexOf(PopDirectionalIsolate, start + 1);
            var name = end < 0 ? rest[(start + 1)..] : rest[(start + 1)..end];
            html.AppendHtml("<bdi class=\"name\">").Append(name).AppendHtml("</bdi>");
            rest = end < 0 ? "" : rest[(end + 1)..];
        }

        return html.Append(rest);
    }
}
