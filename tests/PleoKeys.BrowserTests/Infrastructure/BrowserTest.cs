using System.Net.Http.Headers;
using System.Text;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.BrowserTests.Infrastructure;

/// <summary>
/// Base for browser tests: xUnit makes one instance per test, so each test gets its own context and page.
/// Elements are found the way a person finds them: by role, label and visible text.
/// </summary>
[Collection(SharedBrowser.Name)]
public abstract class BrowserTest(BrowserFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>WCAG 2.0 and 2.1, levels A and AA.</summary>
    private static readonly AxeRunOptions Wcag21AA = new()
    {
        RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    };

    private IBrowserContext? _context;

    protected BrowserFixture Fixture => fixture;

    protected IPage Page { get; private set; } = null!;

    /// <summary>Viewport width for this class's pages; a class overrides it to test a phone-sized screen.</summary>
    protected virtual int ViewportWidth => 1280;

    protected virtual int ViewportHeight => 800;

    /// <summary>A class turns script off to prove the forms work without it.</summary>
    protected virtual bool JavaScriptEnabled => true;

    public async Task InitializeAsync()
    {
        _context = await fixture.NewContextAsync(ViewportWidth, ViewportHeight, JavaScriptEnabled);
        Page = await _context.NewPageAsync();
        output.WriteLine(fixture.StartupTimings);
    }

    public async Task DisposeAsync()
    {
        if (_context is not null)
        {
            await _context.CloseAsync();
        }
    }

    protected ILocator MainNav => Page.GetByRole(AriaRole.Navigation, new() { Name = "Main" });

    protected ILocator SettingsNav => Page.GetByRole(AriaRole.Navigation, new() { Name = "Settings" });

    protected ILocator Main => Page.GetByRole(AriaRole.Main);

    protected ILocator Button(string name) => Page.GetByRole(AriaRole.Button, new() { Name = name, Exact = true });

    protected ILocator Link(string name) => Page.GetByRole(AriaRole.Link, new() { Name = name, Exact = true });

    protected ILocator Heading(string name) => Page.GetByRole(AriaRole.Heading, new() { Name = name, Exact = true });

    /// <summary>Signs in through the sign-in page and lands on the overview.</summary>
    protected async Task SignInAsync(string email)
    {
        await Page.GotoAsync("/Account/Login");
        await Page.GetByLabel("Email").FillAsync(email);
        await Page.GetByLabel("Password").FillAsync(DemoData.Password);
        await Button("Sign in").ClickAsync();
        await Expect(Heading("Overview")).ToBeVisibleAsync();
    }

    /// <summary>Settings → API Keys, as the seed describes it.</summary>
    protected async Task OpenApiKeysAsync()
    {
        await MainNav.GetByRole(AriaRole.Link, new() { Name = "Settings", Exact = true }).ClickAsync();
        await SettingsNav.GetByRole(AriaRole.Link, new() { Name = "API Keys", Exact = true }).ClickAsync();
        await Expect(Heading("API Keys")).ToBeVisibleAsync();
    }

    /// <summary>Fills the create form with a name, 30 days, this entity and the given permissions, and submits it.</summary>
    protected async Task<string> CreateKeyThroughFormAsync(string name, params string[] scopes)
    {
        await Page.GotoAsync("/Settings/ApiKeys/Create");
        await Page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await Page.GetByRole(AriaRole.Radio, new() { Name = "30 days" }).CheckAsync();
        await Page.GetByRole(AriaRole.Radio, new() { Name = "This entity" }).CheckAsync();
        foreach (var scope in scopes)
        {
            await Page.GetByRole(AriaRole.Checkbox, new() { Name = scope }).CheckAsync();
        }

        await Button("Create API Key").ClickAsync();
        await Expect(Heading("Your new API key")).ToBeVisibleAsync();
        return await Page.GetByLabel("API key", new() { Exact = true }).InputValueAsync();
    }

    /// <summary>axe-core, WCAG 2.1 A and AA: no violations on the page as it is now.</summary>
    protected Task AssertAccessibleAsync(string what) => AssertAccessibleAsync(Page, what);

    /// <summary>axe-core, WCAG 2.1 A and AA, on a page of another context (another user, another width).</summary>
    protected static async Task AssertAccessibleAsync(IPage page, string what)
    {
        var result = await page.RunAxe(Wcag21AA);
        // Selectors and rule names only: a node's HTML could hold a newly revealed key.
        var found = string.Join("\n", result.Violations.Select(v =>
            $"- {v.Id} ({v.Impact}): {v.Help} at {string.Join(" | ", v.Nodes.Select(n => n.Target?.ToString()))}"));
        Assert.True(result.Violations.Length == 0, $"axe found WCAG 2.1 AA violations on {what}:\n{found}");
        Assert.NotEmpty(result.Passes);
    }

    /// <summary>Saves a screenshot of the page into the repository's docs/screenshots, for the README.</summary>
    protected async Task SaveScreenshotAsync(string name, bool fullPage = true)
    {
        var path = Path.Combine(Screenshots.Folder, name + ".png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = fullPage, Animations = ScreenshotAnimations.Disabled });
    }

    /// <summary>The element that has focus, by its accessible role and name (for keyboard tests' messages).</summary>
    protected Task<string> FocusedDescriptionAsync() =>
        Page.EvaluateAsync<string>("() => { const e = document.activeElement; return e ? `${e.tagName.toLowerCase()} '${(e.getAttribute('aria-label') || e.labels?.[0]?.textContent || e.textContent || '').trim().slice(0, 60)}'` : 'nothing'; }");

    /// <summary>Presses Tab until the element has focus (at most <paramref name="limit"/> times).</summary>
    protected async Task TabToAsync(ILocator target, int limit = 60)
    {
        for (var i = 0; i < limit; i++)
        {
            if (await target.EvaluateAsync<bool>("e => e === document.activeElement"))
            {
                return;
            }

            await Page.Keyboard.PressAsync("Tab");
        }

        Assert.Fail($"Tab never reached the element; focus is on {await FocusedDescriptionAsync()}.");
    }

    /// <summary>Calls the API as an integration would: <c>curl -u 'KEY:' …/v1/installations/me</c>.</summary>
    protected async Task<System.Net.HttpStatusCode> InstallationsMeStatusAsync(string key)
    {
        using var http = new HttpClient { BaseAddress = fixture.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/installations/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(key + ":")));
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}

/// <summary>docs/screenshots in the repository (found by walking up to PleoKeys.sln).</summary>
public static class Screenshots
{
    /// <summary>The folder that holds PleoKeys.sln.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    // After RepositoryRoot: static initializers run in the order they are written.
    public static string Folder { get; } = Directory.CreateDirectory(Path.Combine(RepositoryRoot, "docs", "screenshots")).FullName;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PleoKeys.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No PleoKeys.sln above {AppContext.BaseDirectory}: cannot find docs/screenshots.");
    }
}
