using System.Diagnostics;
using System.Globalization;
using System.Net;
using AngleSharp.Html.Dom;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.Tests;

/// <summary>Two app processes on one fresh PostgreSQL database, as a load balancer would have them.</summary>
public sealed class TwoInstances : IAsyncLifetime
{
    private string? _database;

    /// <summary>The secrets folder both instances share (the key ring's certificate, made by A on its first run).</summary>
    public string SecretsPath { get; } = Path.Combine(Path.GetTempPath(), $"pleokeys-two-instances-{Guid.NewGuid():N}");

    public AppProcess A { get; private set; } = null!;
    public AppProcess B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (TestDatabase.PostgresConnectionString is null)
        {
            return; // The tests skip themselves and say how to run them.
        }

        _database = TestDatabase.NewPostgresDatabase();
        var ports = AppProcess.Ports(2);
        // The per-key request limit is per instance; B is polled as fast as it answers, well past 600 a minute.
        // Both read the key ring with one certificate, as instances given the same mounted secret do.
        var settings = new Dictionary<string, string>
        {
            ["PleoKeys__RequestsPerMinute"] = "1000000",
            ["PleoKeys__SecretsPath"] = SecretsPath,
        };
        // A first: it applies the migrations and seeds the demo data that B then finds.
        A = await AppProcess.StartAsync(ports[0], _database, settings);
        B = await AppProcess.StartAsync(ports[1], _database, settings);
    }

    public async Task DisposeAsync()
    {
        if (A is not null)
        {
            await A.DisposeAsync();
        }

        if (B is not null)
        {
            await B.DisposeAsync();
        }

        if (_database is not null)
        {
            await TestDatabase.DropPostgresDatabaseAsync(_database);
        }

        if (Directory.Exists(SecretsPath))
        {
            Directory.Delete(SecretsPath, recursive: true);
        }
    }
}

/// <summary>
/// What one instance issues, the other honours: the sign-in cookie, the antiforgery token and the one-time
/// reveal are protected with the key ring both read from the database; and a key deleted through one instance
/// is refused by the other within a second (LISTEN/NOTIFY), although the other had it cached as valid.
/// </summary>
[Trait("Category", TestDatabase.PostgresOnly)]
public sealed class MultiInstanceTests(TwoInstances apps, ITestOutputHelper output) : IClassFixture<TwoInstances>
{
    private readonly AppProcess _a = apps.A;
    private readonly AppProcess _b = apps.B;

    /// <summary>One browser: a cookie jar for both instances (cookies are per host, not per port).</summary>
    private static HttpClient NewBrowser() =>
        new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };

    [PostgresFact]
    public async Task SignInAntiforgeryAndReveal_MadeOnOneInstance_WorkOnTheOther()
    {
        using var browser = NewBrowser();
        await SignInAsync(browser, _a);

        var list = await browser.GetAsync(_b.Url("/Settings/ApiKeys"));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Contains("Create API Key", await list.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

        var key = await CreateKeyAsync(browser, formFrom: _b, postTo: _a, revealOn: _b, name: "Made on two instances");

        using var api = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await api.ApiGetAsync(_b.Url("/v1/installations/me").ToString(), key)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.ApiGetAsync(_a.Url("/v1/installations/me").ToString(), key)).StatusCode);
    }

    [PostgresFact]
    public async Task SignOut_OnInstanceA_EndsACopiedSessionOnInstanceB()
    {
        var jar = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = jar, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
        var login = await Html.ParseAsync(await browser.GetAsync(_a.Url("/Account/Login")));
        Assert.Equal(HttpStatusCode.Redirect,
            (await browser.SubmitAsync(login.Form(), ("Input.Email", DemoData.Bookkeeper), ("Input.Password", DemoData.Password))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(_b.Url("/Settings/ApiKeys"))).StatusCode);
        var copied = jar.GetCookieHeader(_a.BaseAddress);

        var home = await Html.ParseAsync(await browser.GetAsync(_a.Url("/")));
        Assert.Equal(HttpStatusCode.Redirect, (await browser.SubmitAsync(home.Form("header form[action='/Account/Logout']"))).StatusCode);

        using var replay = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, _b.Url("/Settings/ApiKeys"));
        request.Headers.Add("Cookie", copied);
        var response = await replay.SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/Account/Login", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task Delete_OnInstanceA_IsRefusedByInstanceBWithinOneSecond()
    {
        using var browser = NewBrowser();
        await SignInAsync(browser, _a);
        using var api = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        var delays = new List<TimeSpan>();
        for (var round = 1; round <= 3; round++)
        {
            delays.Add(await MeasureRevocationAsync(browser, api, round));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Revocation across instances: B accepted a key deleted through A for at most {delays.Max().TotalMilliseconds:F1} ms after A's answer " +
            $"over {delays.Count} deletions ({string.Join(", ", delays.Select(d => d.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture)))} ms)."));
        Assert.All(delays, d => Assert.True(d < TimeSpan.FromSeconds(1), $"B accepted a deleted key for {d.TotalMilliseconds:F0} ms after A deleted it."));
    }

    /// <summary>
    /// Creates a key, lets B cache it as valid, deletes it through A while polling B as fast as B answers, and
    /// returns how long after A's answer B went on accepting it (zero when B refused it before A had answered).
    /// </summary>
    private async Task<TimeSpan> MeasureRevocationAsync(HttpClient browser, HttpClient api, int round)
    {
        var name = $"Revoke across instances {Guid.NewGuid():N}";
        var key = await CreateKeyAsync(browser, formFrom: _a, postTo: _a, revealOn: _b, name: name);
        var onB = _b.Url("/v1/installations/me").ToString();
        for (var i = 0; i < 3; i++)
        {
            // B has verified the key and keeps it cached as valid: only a change notice makes it look again.
            Assert.Equal(HttpStatusCode.OK, (await api.ApiGetAsync(onB, key)).StatusCode);
        }

        var listed = await Html.ParseAsync(await browser.GetAsync(_a.Url($"/Settings/ApiKeys?q={Uri.EscapeDataString(name)}")));
        var details = listed.QuerySelector("a.row-link")?.GetAttribute("href") ?? throw new InvalidOperationException("The new key is not in the list.");
        var rowId = details[(details.LastIndexOf('/') + 1)..];
        var confirm = await Html.ParseAsync(await browser.GetAsync(_a.Url($"/Settings/ApiKeys/Delete/{rowId}")));

        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var deletedAt = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var polling = PollUntilRefusedAsync(api, onB, key, clock, deletedAt.Task, stop.Token);

        var deleteSentAt = clock.Elapsed;
        var deleted = await browser.SubmitAsync(confirm.Form());
        var answeredAt = clock.Elapsed;
        deletedAt.SetResult(answeredAt);
        Assert.Equal(HttpStatusCode.Redirect, deleted.StatusCode);

        var poll = await polling;
        Assert.True(poll.RefusedSent is not null, $"B still accepted the deleted key after {poll.Requests} requests.");
        // Requests to B are sequential, so B accepted the key until about the moment the refused request left:
        // measured from A's answer (the deletion is committed and announced by then), negative meaning before it.
        var delay = poll.RefusedSent.Value - answeredAt;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Deletion {round}: B refused the request sent {delay.TotalMilliseconds:F1} ms after A confirmed the deletion " +
            $"(its answer took {(poll.RefusedReceived!.Value - poll.RefusedSent.Value).TotalMilliseconds:F1} ms; the last accepted request was sent at " +
            $"{(poll.LastAcceptedSent - answeredAt).TotalMilliseconds:F1} ms; A took {(answeredAt - deleteSentAt).TotalMilliseconds:F0} ms to delete; " +
            $"B answered {poll.Requests} requests meanwhile, {poll.AcceptedAfterDelete} accepted after A's answer)."));

        var after = await api.ApiGetAsync(onB, key);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Contains("deleted", await after.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
    }

    [PostgresFact]
    public async Task Roll_OnInstanceA_ReachesInstanceBWithinOneSecond_ForAGracePeriodAndForNow()
    {
        using var browser = NewBrowser();
        await SignInAsync(browser, _a);
        using var api = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var onB = _b.Url("/v1/installations/me").ToString();
        var name = $"Roll across instances {Guid.NewGuid():N}";
        var old = await CreateKeyAsync(browser, formFrom: _a, postTo: _a, revealOn: _b, name: name);
        for (var i = 0; i < 3; i++)
        {
            var cached = await api.ApiGetAsync(onB, old);
            Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
            Assert.False(cached.Headers.Contains("Sunset"));
        }

        // A 1-hour grace, rolled through A: B keeps accepting the old secret, now with the stop time it must judge.
        var (replacement, graceDelay, inGrace) = await RollAndPollBAsync(browser, api, name, old, "1h", r => r.Headers.Contains("Sunset"));
        Assert.Equal(HttpStatusCode.OK, inGrace.StatusCode);
        var sunset = DateTimeOffset.ParseExact(inGrace.Headers.GetValues("Sunset").Single(), "R", CultureInfo.InvariantCulture);
        Assert.InRange(sunset - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(58), TimeSpan.FromMinutes(61));
        Assert.StartsWith("@", inGrace.Headers.GetValues("Deprecation").Single(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await api.ApiGetAsync(onB, replacement)).StatusCode);

        // The replacement rolled again with no grace: B refuses it at once.
        var (_, nowDelay, refused) = await RollAndPollBAsync(browser, api, name, replacement, "now", r => r.StatusCode == HttpStatusCode.Unauthorized);
        Assert.Contains("use its replacement", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Roll across instances: B saw the 1-hour grace {graceDelay.TotalMilliseconds:F1} ms and refused the 'now' roll {nowDelay.TotalMilliseconds:F1} ms after A's answer."));
        Assert.True(graceDelay < TimeSpan.FromSeconds(1), $"B learnt of the roll {graceDelay.TotalMilliseconds:F0} ms after A answered.");
        Assert.True(nowDelay < TimeSpan.FromSeconds(1), $"B accepted a key rolled with no grace for {nowDelay.TotalMilliseconds:F0} ms.");
    }

    /// <summary>
    /// Rolls the listed key through A while polling B with <paramref name="key"/> until <paramref name="seen"/>; returns the
    /// new key, how long after A's answer B's first matching answer was sent (zero if before), and that answer.
    /// </summary>
    private async Task<(string NewKey, TimeSpan Delay, HttpResponseMessage Answer)> RollAndPollBAsync(
        HttpClient browser, HttpClient api, string name, string key, string grace, Func<HttpResponseMessage, bool> seen)
    {
        var listed = await Html.ParseAsync(await browser.GetAsync(_a.Url($"/Settings/ApiKeys?q={Uri.EscapeDataString(name)}")));
        var details = listed.QuerySelector("a.row-link")?.GetAttribute("href") ?? throw new InvalidOperationException("The key is not in the list.");
        var form = await Html.ParseAsync(await browser.GetAsync(_a.Url($"/Settings/ApiKeys/Roll/{details[(details.LastIndexOf('/') + 1)..]}")));
        var onB = _b.Url("/v1/installations/me").ToString();

        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var polling = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var sent = clock.Elapsed;
                var response = await api.ApiGetAsync(onB, key);
                if (seen(response))
                {
                    return (sent, response);
                }

                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            throw new TimeoutException("B never saw the roll.");
        });

        var rolled = await browser.SubmitAsync(form.Form("main form"), ("Input.Grace", grace));
        var answeredAt = clock.Elapsed;
        Assert.Equal(HttpStatusCode.Redirect, rolled.StatusCode);
        var (seenSent, answer) = await polling;
        var reveal = await Html.ParseAsync(await browser.GetAsync(_b.Url(rolled.Headers.Location!.ToString())));
        var newKey = ((IHtmlInputElement)reveal.QuerySelector("#new-key")!).Value;
        var delay = seenSent - answeredAt;
        return (newKey, delay < TimeSpan.Zero ? TimeSpan.Zero : delay, answer);
    }

    private sealed record PollResult(TimeSpan? RefusedSent, TimeSpan? RefusedReceived, TimeSpan LastAcceptedSent, int AcceptedAfterDelete, int Requests);

    /// <summary>Sequential requests to B until it answers 401; times are on <paramref name="clock"/>.</summary>
    private static async Task<PollResult> PollUntilRefusedAsync(
        HttpClient api, string url, string key, Stopwatch clock, Task<TimeSpan> deletedAt, CancellationToken ct)
    {
        var lastAcceptedSent = TimeSpan.Zero;
        var acceptedAfter = 0;
        var requests = 0;
        while (!ct.IsCancellationRequested)
        {
            var sent = clock.Elapsed;
            using var response = await api.ApiGetAsync(url, key);
            var received = clock.Elapsed;
            requests++;
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                return new PollResult(sent, received, lastAcceptedSent, acceptedAfter, requests);
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            lastAcceptedSent = sent;
            if (deletedAt.IsCompleted && sent > deletedAt.Result)
            {
                acceptedAfter++;
            }
        }

        return new PollResult(null, null, lastAcceptedSent, acceptedAfter, requests);
    }

    private static async Task SignInAsync(HttpClient browser, AppProcess on)
    {
        var login = await Html.ParseAsync(await browser.GetAsync(on.Url("/Account/Login")));
        var response = await browser.SubmitAsync(login.Form(), ("Input.Email", DemoData.Admin), ("Input.Password", DemoData.Password));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    /// <summary>Gets the Create form from one instance, posts it to another and reads the one-time reveal on a third.</summary>
    private static async Task<string> CreateKeyAsync(HttpClient browser, AppProcess formFrom, AppProcess postTo, AppProcess revealOn, string name)
    {
        var page = await browser.GetAsync(formFrom.Url("/Settings/ApiKeys/Create"));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var form = (await Html.ParseAsync(page, postTo.Url("/Settings/ApiKeys/Create"))).Form();
        var created = await browser.SubmitAsync(form, ("Input.Name", name), ("Input.Expiration", "30"),
            ("Input.AccessLevel", "Company"), ("Input.CustomDate", ""), ("Input.Scopes", "vendors:read"));
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);

        var reveal = await browser.GetAsync(revealOn.Url(created.Headers.Location!.ToString()));
        Assert.Equal(HttpStatusCode.OK, reveal.StatusCode);
        var input = (IHtmlInputElement?)(await Html.ParseAsync(reveal)).QuerySelector("#new-key");
        Assert.NotNull(input);
        return input.Value;
    }
}
