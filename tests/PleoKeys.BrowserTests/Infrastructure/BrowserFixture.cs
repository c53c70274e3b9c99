using System.Diagnostics;

namespace PleoKeys.BrowserTests.Infrastructure;

/// <summary>
/// One app and one Chromium for the whole collection; each test opens its own browser context
/// (fresh cookies, fresh clipboard permission), which costs milliseconds rather than a browser launch.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>Debian's package: <c>apt-get install -y chromium</c>. PLEOKEYS_CHROMIUM points elsewhere.</summary>
    public const string DefaultChromiumPath = "/usr/bin/chromium";

    // Headless, and quiet on the network: no sync, updates, QUIC or first-run pages.
    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public BrowserAppFactory App { get; } = new();

    public Uri BaseAddress { get; private set; } = null!;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser is not started.");

    /// <summary>How long the app and the browser took to start (written to the test output once).</summary>
    public string StartupTimings { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var chromium = Environment.GetEnvironmentVariable("PLEOKEYS_CHROMIUM") is { Length: > 0 } custom ? custom : DefaultChromiumPath;
        if (!File.Exists(chromium))
        {
            // Never a silent pass: every browser test fails with this message.
            var inCi = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
            throw new InvalidOperationException(
                $"The browser tests need Chromium at {chromium}, and it is missing. Install it with " +
                "`apt-get install -y chromium` (Debian/Ubuntu), or set PLEOKEYS_CHROMIUM to a Chromium binary." +
                (inCi ? " CI=true: .ci/run installs it before the tests; a CI run without a browser fails." : ""));
        }

        var clock = Stopwatch.StartNew();
        App.StartServer();
        BaseAddress = App.ServerAddress;
        var appMs = clock.ElapsedMilliseconds;

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ChromiumArgs,
        });
        SetDefaultExpectTimeout(10_000);
        StartupTimings = $"app {appMs} ms, Chromium {_browser.Version} {clock.ElapsedMilliseconds - appMs} ms";
    }

    /// <summary>
    /// A fresh context: no cookies, clipboard allowed for the app's origin, desktop size unless told. The browser's
    /// language (Accept-Language) is British English unless <paramref name="locale"/> says otherwise; with
    /// <paramref name="pseudo"/> every text of the app is 40 % longer (<see cref="PseudoLocalization"/>).
    /// </summary>
    public async Task<IBrowserContext> NewContextAsync(int width = 1280, int height = 800, bool javaScript = true, string locale = "en-GB", bool pseudo = false)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = locale,
            JavaScriptEnabled = javaScript,
        });
        if (pseudo)
        {
            await context.AddCookiesAsync([new Cookie { Name = PseudoLocalization.CookieName, Value = "1", Url = BaseAddress.GetLeftPart(UriPartial.Authority) }]);
        }

        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"],
            new BrowserContextGrantPermissionsOptions { Origin = BaseAddress.GetLeftPart(UriPartial.Authority) });
        context.SetDefaultTimeout(15_000);
        return context;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        await App.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class SharedBrowser : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
