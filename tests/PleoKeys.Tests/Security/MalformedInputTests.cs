using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using CsCheck;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.Tests.Security;

/// <summary>
/// Generated malformed input (CsCheck) against the create form and against API authentication. Each form
/// case is judged by an oracle that states the form's rules independently of the page: accepted cases must
/// create exactly one key, every other case must be a 400 with a message and store nothing, and no case
/// may produce a 5xx. One signed-in client and one antiforgery token serve every request, in process.
/// </summary>
public sealed class MalformedInputTests(PleoKeysFactory factory, ITestOutputHelper output) : IClassFixture<PleoKeysFactory>
{
    private const int FormCases = 10_000;
    private const int ApiCases = 10_000;
    private const int Threads = 4;

    // ---------------------------------------------------------------- create form

    public enum TokenKind
    {
        Valid,
        Missing,
        Garbage,
        OtherUsers,
        Truncated,
        Twice,
    }

    public sealed record FormCase(
        string? Name, string? Expiration, string? CustomDate, string? AccessLevel, string[] Scopes,
        TokenKind Token, (string Field, string Value)[] Tampered, byte[]? RawBody, string? RawContentType);

    // Text atoms: letters, RTL, emoji (whole surrogate pairs and a ZWJ sequence), markup, quotes, whitespace, controls.
    private static readonly string[] Atoms =
    [
        "a", "Z", "0", " ", "_", "-", "'", "\"", "<", ">", "&", ";", "%", "\\", "/", "æ", "ø", "å", "ا", "ل", "א", "ש",
        "\u202E", "\u200B", "\u00A0", "\u2003", "\uFEFF", "🔑", "🚀", "👨‍👩‍👧", "\t", "\n", "\r", "\u0007", "\u007F", "\u0085",
    ];

    private static readonly string[] HostileNames =
    [
        "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)", "'; DROP TABLE ApiKeys; --",
        "1' OR '1'='1", "Robert'); DELETE FROM AuditEvents;--", "{{7*7}}", "${jndi:ldap://example.invalid/a}", "../../etc/passwd",
        "مفتاح التكامل", "מפתח אינטגרציה", "🔑 Zapier 🚀", "👨‍👩‍👧 family", "\u202Etxt.exe", "ＡＰＩ ｋｅｙ", "%00%0d%0a", "NULL",
    ];

    private static readonly Gen<string> AtomText = Gen.Int[0, 120].SelectMany(n => Gen.OneOf(Atoms).Array[n]).Select(a => string.Concat(a));

    private static readonly Gen<string?> NameGen = Gen.Frequency(
        (4, AtomText.Select(s => (string?)s)),
        (3, Gen.OneOf(HostileNames).Select(s => (string?)s)),
        (1, Gen.OneOf<string?>(null, "", " ", "   ", "\t", "\u00A0\u2003", "\r\n")),
        (1, Gen.Int[101, 10_000].Select(n => (string?)new string('x', n))),
        (1, Gen.Int[1, 99].Select(n => (string?)("Key" + new string('y', n) + (n % 3 == 0 ? "\0" : "\u0001")))));

    private static readonly string[] Quick = ["7", "30", "60", "90", "365"];

    private static readonly Gen<string?> ExpirationGen = Gen.Frequency(
        (4, Gen.OneOf(Quick).Select(s => (string?)s)),
        (4, Gen.Const<string?>("custom")),
        (2, Gen.OneOf<string?>(null, "", "0", "-7", "1", "31", "366", "1000", "9999999999", " 30", "30 ", "30.0", "3e1", "٣٠", "Custom", "never", "90,30")));

    private static readonly Gen<string?> CustomDateGen = Gen.Frequency(
        (4, Gen.Int[-400, 400].Select(d => (string?)Today.AddDays(d).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))),
        (1, Gen.Int[1, 365].Select(d => (string?)(" " + Today.AddDays(d).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + " "))),
        (3, Gen.Int[1, 365].SelectMany(d => Gen.OneOf("dd/MM/yyyy", "MM/dd/yyyy", "yyyy-MM-dd'T00:00:00Z'", "yyyyMMdd", "d MMM yyyy", "yyyy-M-d", "yyyy.MM.dd")
            .Select(f => (string?)Today.AddDays(d).ToString(f, CultureInfo.InvariantCulture)))),
        (2, Gen.OneOf<string?>(null, "", " ", "2026-02-30", "2026-13-01", "2026-00-10", "9999-12-31", "0001-01-01", "10000-01-01",
            "２０２６-１２-０１", "2026-12-01\0", "tomorrow", "<script>", "' OR 1=1 --")),
        (1, Gen.Int[11, 10_000].Select(n => (string?)new string('9', n))));

    private static readonly Gen<string?> AccessLevelGen = Gen.Frequency(
        (5, Gen.OneOf<string?>("Company", "Organisation")),
        (1, Gen.Const<string?>(() => null)),
        (3, Gen.OneOf<string?>("", "company", "COMPANY", "Organization", "organisation", "Organisation ", " Company", "Admin", "0", "1", "2",
            "Company\0", "Company,Organisation", DemoData.FjordBikesAsId.ToString(), "<b>Company</b>")),
        (1, Gen.Int[20, 10_000].Select(n => (string?)new string('C', n))));

    private static readonly string[] KnownScopes = Scopes.All.Select(s => s.Value).ToArray();

    private static readonly Gen<string[]> ScopesGen = Gen.Frequency(
        (5, Gen.Int[1, KnownScopes.Length].SelectMany(n => Gen.Shuffle(KnownScopes, n))),
        (1, Gen.Const<string[]>([])),
        (1, Gen.OneOf<string[]>(["", " "], ["\t"], ["vendors:read", ""], ["vendors:read", "vendors:read", "vendors:read"])),
        (2, Gen.OneOf<string[]>(["admin:all"], ["vendors:read", "vendors:delete"], ["Vendors:Read"], ["vendors:read "], [" vendors:read"],
            ["vendors:read\0"], ["vendors"], ["*"], ["vendors:read vendors:write"], ["<script>alert(1)</script>"], ["' OR 1=1 --"])),
        (1, Gen.Bool.Select(dup => dup
            ? Enumerable.Repeat("vendors:read", 1000).ToArray()
            : Enumerable.Range(0, 1000).Select(i => $"scope-{i}:read").ToArray())));

    private static readonly Gen<(string, string)[]> TamperGen = Gen.OneOf(
        ("Input.CompanyId", DemoData.FjordBikesAsId.ToString()), ("Input.OrganisationId", DemoData.FjordBikesId.ToString()),
        ("CompanyId", DemoData.NordicCoffeeAbId.ToString()), ("Input.Id", Guid.Empty.ToString()), ("Input.CreatedByUserId", "someone-else"),
        ("Input.KeyId", "AAAAAAAAAAAA"), ("Input.Scopes[0]", "admin:all"), ("Input", "x")).Array[0, 3];

    private static readonly Gen<TokenKind> TokenGen = Gen.Frequency(
        (30, Gen.Const(TokenKind.Valid)),
        (1, Gen.OneOf(TokenKind.Missing, TokenKind.Garbage, TokenKind.OtherUsers, TokenKind.Truncated, TokenKind.Twice)));

    private static readonly Gen<FormCase> FormGen = Gen.Frequency(
        (19, Gen.Select(NameGen, ExpirationGen, CustomDateGen, AccessLevelGen, ScopesGen, TokenGen, TamperGen,
            (n, e, c, a, s, t, x) => new FormCase(n, e, c, a, s, t, x, null, null))),
        (1, Gen.Select(Gen.Byte.Array[0, 2000], Gen.OneOf<string?>("application/x-www-form-urlencoded", "multipart/form-data; boundary=zz", "application/json", "text/plain", null),
            (bytes, type) => new FormCase(null, null, null, null, [], TokenKind.Missing, [], bytes, type))));

    /// <summary>Today in Copenhagen at the factory's start instant.</summary>
    private static DateOnly Today => DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(PleoKeysFactory.Start.UtcDateTime,
        TimeZoneInfo.FindSystemTimeZoneById("Europe/Copenhagen")));

    /// <summary>The form reader refuses a form with a NUL character in any value, before the page sees it.</summary>
    private static bool Unreadable(FormCase c) =>
        new[] { c.Name, c.Expiration, c.CustomDate, c.AccessLevel }.Concat(c.Scopes).Concat(c.Tampered.Select(t => t.Value))
            .Any(v => v is not null && v.Contains('\0', StringComparison.Ordinal));

    /// <summary>The rules the create form promises, written independently of the page. Empty when valid.</summary>
    private static List<string[]> Violations(FormCase c)
    {
        var errors = new List<string[]>();
        var name = (c.Name ?? "").Trim();
        // Which characters a name may hold (direction controls, invisible characters, stacked marks) is the pure,
        // separately unit-tested KeyName rule (KeyNameTests); this model adds the length and controls on its own.
        if (name.Length is 0 or > 100 || name.Any(char.IsControl) || KeyName.Problem(name) is not null)
        {
            errors.Add(["Enter a name for the key.", "Use at most 100 characters", "can&#x27;t contain control characters",
                "invisible characters such as", "text-direction controls such as", "at least one visible character",
                "start with a combining mark", "stacks too many accents"]);
        }

        var expiration = c.Expiration ?? "90";
        if (expiration == "custom")
        {
            var date = (c.CustomDate ?? "").Trim();
            var ok = DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
                && d > Today && d <= Today.AddYears(1);
            if (!ok)
            {
                errors.Add(["Enter the expiration date.", "Enter the date as YYYY-MM-DD", "Choose a date after today.", "Choose a date at most one year ahead"]);
            }
        }
        else if (!Quick.Contains(expiration))
        {
            errors.Add(["Choose when the key expires."]);
        }

        if ((c.AccessLevel ?? "Company") is not ("Company" or "Organisation"))
        {
            errors.Add(["Choose an access level."]);
        }

        var scopes = c.Scopes.Where(s => !string.IsNullOrWhiteSpace(s)).ToList();
        if (scopes.Count == 0 || scopes.Any(s => !KnownScopes.Contains(s)))
        {
            errors.Add(["Choose at least one permission.", "Unknown permission:"]);
        }

        return errors;
    }

    [Fact]
    public async Task CreateForm_GeneratedMalformedInput_RejectedWith400AndMessageNothingStoredNo5xx()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var (token, sharedTicket) = await client.FormTokensAsync("/Settings/ApiKeys/Create");
        var otherToken = await (await factory.SignedInClientAsync(DemoData.Bookkeeper)).AntiforgeryTokenAsync("/");
        var (keysBefore, auditBefore) = await CountKeysAndAuditAsync();
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int cases = 0, accepted = 0, rejected = 0, tokenRejections = 0;

        await FormGen.SampleAsync(async c =>
        {
            Interlocked.Increment(ref cases);
            // A form's ticket is used up by the key it creates, so a case that should create one gets a form of its own.
            var ticket = c.RawBody is null && c.Token == TokenKind.Valid && !Unreadable(c) && Violations(c).Count == 0
                ? (await client.FormTokensAsync("/Settings/ApiKeys/Create")).Ticket
                : sharedTicket;
            using var request = new HttpRequestMessage(HttpMethod.Post, "/Settings/ApiKeys/Create") { Content = Body(c, token, otherToken, ticket) };
            using var response = await client.SendAsync(request);
            var status = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(status < 500, $"{status} for {Print(c)}");

            if (c.RawBody is not null || c.Token != TokenKind.Valid || Unreadable(c))
            {
                Assert.Equal(400, status);
                Assert.Contains("reload the page and submit it again", body, StringComparison.Ordinal);
                Interlocked.Increment(ref tokenRejections);
                return;
            }

            var violations = Violations(c);
            if (violations.Count == 0)
            {
                Assert.True(status == 302, $"valid input answered {status}: {Print(c)}");
                Assert.StartsWith("/Settings/ApiKeys/Reveal/", response.Headers.Location?.OriginalString, StringComparison.Ordinal);
                Interlocked.Increment(ref accepted);
                return;
            }

            Assert.True(status == 400, $"invalid input answered {status}: {Print(c)}");
            Assert.Contains("The key was not created", body, StringComparison.Ordinal);
            foreach (var messages in violations)
            {
                Assert.True(messages.Any(m => body.Contains(m, StringComparison.Ordinal)), $"no message among [{string.Join(" | ", messages)}] for {Print(c)}");
            }

            // What was sent comes back encoded, never as markup.
            if (c.Name is { } n && HostileNames.Contains(n) && n.Contains('<', StringComparison.Ordinal))
            {
                Assert.DoesNotContain(n, body, StringComparison.Ordinal);
            }

            Interlocked.Increment(ref rejected);
        }, iter: FormCases, threads: Threads, print: Print);

        var (keysAfter, auditAfter) = await CountKeysAndAuditAsync();
        Assert.Equal(FormCases, cases);
        Assert.Equal(accepted, keysAfter - keysBefore);
        Assert.Equal(accepted, auditAfter - auditBefore);
        Assert.True(rejected > FormCases / 2, $"only {rejected} cases were invalid field values");
        output.WriteLine($"create form: {cases} generated inputs in {clock.Elapsed.TotalSeconds:F0} s ({(System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F0} s CPU); {rejected} rejected by validation (400 + field messages), " +
            $"{tokenRejections} rejected for a missing/forged token or an unreadable form (400 + message), {accepted} valid ones created exactly {keysAfter - keysBefore} keys; 0 responses ≥ 500");
    }

    [Fact]
    public async Task CreateForm_OverFormLimits_Returns400NotServerError()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var token = await client.AntiforgeryTokenAsync("/Settings/ApiKeys/Create");
        var keysBefore = await factory.KeyCountAsync();

        // More fields than the form reader allows (1,024), and one value over its 4 MB limit.
        var tooMany = PageHelpers.CreateFields(token, scopes: Enumerable.Repeat("vendors:read", 2000));
        var tooLong = PageHelpers.CreateFields(token, name: new string('n', 5 * 1024 * 1024));
        foreach (var fields in new[] { tooMany, tooLong })
        {
            var response = await client.PostFormAsync("/Settings/ApiKeys/Create", fields);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        Assert.Equal(keysBefore, await factory.KeyCountAsync());
    }

    private static ByteArrayContent Body(FormCase c, string token, string otherToken, string ticket)
    {
        if (c.RawBody is not null)
        {
            var raw = new ByteArrayContent(c.RawBody);
            if (c.RawContentType is not null)
            {
                raw.Headers.ContentType = MediaTypeHeaderValue.Parse(c.RawContentType);
            }

            return raw;
        }

        var fields = new List<(string, string)>();
        switch (c.Token)
        {
            case TokenKind.Valid: fields.Add(("__RequestVerificationToken", token)); break;
            case TokenKind.Garbage: fields.Add(("__RequestVerificationToken", "CfDJ8" + new string('A', 150))); break;
            case TokenKind.OtherUsers: fields.Add(("__RequestVerificationToken", otherToken)); break;
            case TokenKind.Truncated: fields.Add(("__RequestVerificationToken", token[..(token.Length / 2)])); break;
            case TokenKind.Twice: fields.Add(("__RequestVerificationToken", token)); fields.Add(("__RequestVerificationToken", otherToken)); break;
        }

        void Add(string field, string? value)
        {
            if (value is not null)
            {
                fields.Add((field, value));
            }
        }

        fields.Add((PleoKeys.Web.Auth.FormTicket.FieldName, ticket));
        Add("Input.Name", c.Name);
        Add("Input.Expiration", c.Expiration);
        Add("Input.CustomDate", c.CustomDate);
        Add("Input.AccessLevel", c.AccessLevel);
        fields.AddRange(c.Scopes.Select(s => ("Input.Scopes", s)));
        fields.AddRange(c.Tampered);
        var encoded = string.Join('&', fields.Select(f => Encode(f.Item1) + "=" + Encode(f.Item2)));
        var content = new ByteArrayContent(Encoding.ASCII.GetBytes(encoded));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        return content;
    }

    /// <summary>Percent-encodes every byte of the UTF-8 form except the unreserved ones (so NUL, CR and LF travel too).</summary>
    private static string Encode(string s)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            if (b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    private static string Show(string? s) => s is null ? "(missing)"
        : s.Length > 40 ? $"\"{Escape(s[..30])}…\"({s.Length})" : $"\"{Escape(s)}\"";

    private static string Escape(string s) => string.Concat(s.Select(ch => char.IsControl(ch) || ch > 126 ? $"\\u{(int)ch:X4}" : ch.ToString()));

    private static string Print(FormCase c) => c.RawBody is not null
        ? $"raw body of {c.RawBody.Length} bytes as {c.RawContentType ?? "(no type)"}"
        : $"name={Show(c.Name)} expiration={Show(c.Expiration)} date={Show(c.CustomDate)} level={Show(c.AccessLevel)} " +
          $"scopes[{c.Scopes.Length}]={string.Join(',', c.Scopes.Take(3).Select(Show))} token={c.Token} tampered={c.Tampered.Length}";

    private Task<(int, int)> CountKeysAndAuditAsync() => factory.WithDbAsync(async db =>
        (db.ApiKeys.Count(), db.AuditEvents.Count(e => e.Action == AuditActions.KeyCreated)));

    // ---------------------------------------------------------------- API authentication

    public sealed record AuthCase(string Kind, string[] Headers, int Endpoint);

    private static readonly (string Method, string Path)[] Endpoints =
        [("GET", "/v1/installations/me"), ("POST", "/v1/installations/me"), ("GET", "/v1/vendors"), ("POST", "/v1/vendors"), ("GET", "/v2/export-jobs"), ("GET", "/v1/companies")];

    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    /// <summary>Every way of getting the header wrong, built around a real key (which the case never prints).</summary>
    private static Gen<AuthCase> AuthGen(string key, string deleted)
    {
        var endpoint = Gen.Int[0, Endpoints.Length - 1];
        Gen<AuthCase> Case(string kind, Gen<string[]> headers) => Gen.Select(headers, endpoint, (h, e) => new AuthCase(kind, h, e));
        Gen<AuthCase> One(string kind, Gen<string> header) => Case(kind, header.Select(h => new[] { h }));

        // Header values a client can send; CR, LF and NUL never reach the app (the server rejects the request line).
        var printable = Gen.Char[(char)0x20, (char)0xFF].Array[0, 300].Select(a => new string(a));
        var randomBytes = Gen.Byte.Array[0, 300].Select(b => new string(b.Select(x => x is 0 or 10 or 13 ? (char)32 : (char)x).ToArray()));
        var changedChar = Gen.Select(Gen.Int[0, key.Length - 1], Gen.Char[Base62 + "_-+/=. "], (i, ch) =>
            ch == key[i] ? key[..i] + (ch == 'a' ? 'b' : 'a') + key[(i + 1)..] : key[..i] + ch + key[(i + 1)..]);
        var wrongSecretRightChecksum = Gen.Select(Gen.Int[ApiKeyFormat.PrefixLength + ApiKeyFormat.KeyIdLength + 1, ApiKeyFormat.Length - ApiKeyFormat.ChecksumLength - 1], Gen.Char[Base62],
            (i, ch) =>
            {
                var body = key[..^ApiKeyFormat.ChecksumLength];
                body = body[..i] + (ch == body[i] ? (ch == 'a' ? 'b' : 'a') : ch) + body[(i + 1)..];
                return body + ApiKeyFormat.Checksum(body);
            });
        var otherEnvironment = Gen.Bool.Select(recompute =>
        {
            var body = "pleo_live_" + key[ApiKeyFormat.PrefixLength..^ApiKeyFormat.ChecksumLength];
            return recompute ? body + ApiKeyFormat.Checksum(body) : body + key[^ApiKeyFormat.ChecksumLength..];
        });
        var truncated = Gen.Int[0, key.Length - 1].Select(n => key[..n]);

        return Gen.OneOf(
            One("random text", printable),
            One("random bytes", randomBytes),
            One("Basic + random bytes", randomBytes.Select(s => "Basic " + s)),
            One("wrong scheme", Gen.Select(Gen.OneOf("Digest", "Token", "ApiKey", "Negotiate", "NTLM", "Bearer2", "Basic2", "Key", "Pleo", "AWS4-HMAC-SHA256"),
                Gen.Bool, (scheme, basic) => scheme + " " + (basic ? B64(key + ":") : key))),
            One("scheme only", Gen.OneOf("Basic", "Bearer", "Basic ", "Bearer ", "Basic  ", " ", "Basic =", "Bearer :")),
            One("bad base64", Gen.Select(printable, Gen.Int[1, 3], (s, cut) =>
                "Basic " + (s.Length > 0 ? s.Replace("=", "!", StringComparison.Ordinal) + "*" : B64(key + ":")[..^cut]))),
            One("no colon", Gen.Const("Basic " + B64(key))),
            One("empty user name", Gen.OneOf("Basic " + B64(":" + key), "Basic " + B64(":"), "Basic " + B64(""))),
            One("huge header", Gen.Int[1_025, 64_000].Select(n => "Basic " + new string('A', n))),
            One("huge key", Gen.Int[62, 20_000].Select(n => "Bearer " + key + new string('x', n - key.Length))),
            One("truncated key", Gen.Select(truncated, Gen.Bool, (k, basic) => basic ? "Basic " + B64(k + ":") : "Bearer " + k)),
            One("one changed character", Gen.Select(changedChar, Gen.Bool, (k, basic) => basic ? "Basic " + B64(k + ":") : "Bearer " + k)),
            One("wrong secret, valid checksum", Gen.Select(wrongSecretRightChecksum, Gen.Bool, (k, basic) => basic ? "Basic " + B64(k + ":") : "Bearer " + k)),
            One("other environment's prefix", Gen.Select(otherEnvironment, Gen.Bool, (k, basic) => basic ? "Basic " + B64(k + ":") : "Bearer " + k)),
            One("production key", Gen.Const(0).Select(_ => "Basic " + B64(ApiKeyFormat.Generate(KeyEnvironment.Production).Key + ":"))),
            One("unknown staging key", Gen.Const(0).Select(_ => "Bearer " + ApiKeyFormat.Generate(KeyEnvironment.Staging).Key)),
            One("deleted key", Gen.OneOf("Basic " + B64(deleted + ":"), "Bearer " + deleted)),
            One("key with stray characters", Gen.OneOf("Bearer \"" + key + "\"", "Basic " + B64("'" + key + "':"), "Bearer " + key + ",", "Bearer <" + key + ">")),
            Case("two headers", Gen.OneOf(new[] { "Bearer " + key, "Bearer " + deleted }, ["Basic " + B64(key + ":"), "Digest x"])));
    }

    [Fact]
    public async Task ApiAuthentication_GeneratedMalformedCredentials_Return401WithMessageNo5xx()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Fuzz target", scopes: KnownScopes);
        var deleted = await admin.CreateKeyAsync("Fuzz deleted", scopes: KnownScopes);
        var deletedId = await factory.NewClient().KeyRowIdAsync(deleted);
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SubmitAsync((await admin.GetDocumentAsync($"/Settings/ApiKeys/Delete/{deletedId}")).Form())).StatusCode);
        var client = factory.NewClient();
        var vendorsBefore = await factory.WithDbAsync(db => Task.FromResult(db.Vendors.Count()));
        var kinds = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var cases = 0;

        await AuthGen(key, deleted).SampleAsync(async c =>
        {
            Interlocked.Increment(ref cases);
            kinds.AddOrUpdate(c.Kind, 1, (_, n) => n + 1);
            var (method, path) = Endpoints[c.Endpoint];
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            foreach (var h in c.Headers)
            {
                Assert.True(request.Headers.TryAddWithoutValidation("Authorization", h));
            }

            if (method == "POST")
            {
                request.Content = new StringContent("""{"name":"Fuzz vendor"}""", Encoding.UTF8, "application/json");
            }

            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{(int)response.StatusCode} for {c.Kind} on {method} {path}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = System.Text.Json.JsonDocument.Parse(body);
            Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("detail").GetString()), $"no detail for {c.Kind}");
            Assert.StartsWith("Basic realm=", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(key, body, StringComparison.Ordinal);
        }, iter: ApiCases, threads: Threads, print: c => $"{c.Kind} ({c.Headers.Length} header(s), {c.Headers.Sum(h => h.Length)} chars) on {Endpoints[c.Endpoint]}");

        Assert.Equal(ApiCases, cases);
        Assert.Equal(vendorsBefore, await factory.WithDbAsync(db => Task.FromResult(db.Vendors.Count())));
        Assert.Equal(HttpStatusCode.OK, (await client.ApiGetAsync("/v1/installations/me", key)).StatusCode);
        output.WriteLine($"API authentication: {cases} generated credentials in {clock.Elapsed.TotalSeconds:F0} s ({(System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F0} s CPU), all 401 with a problem detail; 0 responses ≥ 500. By kind: " +
            string.Join(", ", kinds.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key} {k.Value}")));
    }
}
