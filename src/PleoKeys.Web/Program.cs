using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PleoKeys.Web;
using PleoKeys.Web.Api;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;
using PleoKeys.Web.Reminders;

// Before anything formats a date: the host's locale decides nothing (see AppCultures).
var hostCulture = System.Globalization.CultureInfo.CurrentCulture.Name;
AppCultures.UseDefaultForTheProcess();
var builder = WebApplication.CreateBuilder(args);

// ---- Services ----
// Hosting's "Request starting/finished" lines carry the query string, where a careless client may put a key
// (?api_key=…); they stay off whatever level the configuration asks for. Keys are never logged otherwise.
builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
builder.Services.AddOptions<PleoKeysOptions>().BindConfiguration(PleoKeysOptions.Section).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<PleoKeysOptions>, PublicBaseUrlValidation>();
builder.Services.AddSingleton<IValidateOptions<PleoKeysOptions>, UsageOptionsValidation>();
builder.Services.AddSingleton<PublicUrls>();
// Outside Development a Host the app does not know gets 400 (AllowedHosts, or by default PublicBaseUrl's host and loopback).
builder.Services.Configure<Microsoft.AspNetCore.HostFiltering.HostFilteringOptions>(o =>
    PublicUrls.DefaultAllowedHosts(o, builder.Configuration, builder.Environment));
builder.Services.AddSingleton(TimeProvider.System);
// TryAdd: a host may put its own in place first (the benchmark's hosting startup counts BCrypt calls, bench/).
builder.Services.TryAddSingleton<IKeySecretHasher>(sp =>
    new BCryptKeySecretHasher(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<PleoKeysOptions>>().Value.BCryptWorkFactor));

builder.Services.AddPleoKeysDatabase(builder.Configuration, builder.Environment);
// One key ring in the database for every instance, so a sign-in cookie, an antiforgery token or the one-time
// reveal (TempData) protected by one instance is read by the next. The fixed application name stops the
// default (the content root path) from giving each install folder its own protectors. Each key is stored
// encrypted to a certificate kept outside the database (DataProtection:CertificatePath, or one created in
// PleoKeys:SecretsPath), so a copy of the database decrypts and forges nothing.
var keyRingCertificate = KeyRingProtection.LoadCertificate(builder.Configuration, builder.Environment);
builder.Services.AddDataProtection()
    .SetApplicationName("PleoKeys")
    .PersistKeysToDbContext<AppDbContext>()
    .ProtectKeysWithCertificate(keyRingCertificate)
    .UnprotectKeysWithAnyCertificate(keyRingCertificate);
// Behind a reverse proxy the client's address (failed-auth budgets, audit log, last used) and scheme come from
// X-Forwarded-For / -Proto, believed only from proxies on this machine or listed in ForwardedHeaders:KnownProxies.
builder.Services.Configure<ForwardedHeadersOptions>(o =>
{
    o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
    var proxies = builder.Configuration.GetSection("ForwardedHeaders:KnownProxies").Get<string[]>() ?? [];
    for (var i = 0; i < proxies.Length; i++)
    {
        o.KnownProxies.Add(IPAddress.TryParse(proxies[i], out var proxy) ? proxy
            : throw new InvalidOperationException($"ForwardedHeaders:KnownProxies:{i} must be an IP address, such as 10.0.0.5 (it is '{proxies[i]}')."));
    }
});

builder.Services.AddIdentity<AppUser, IdentityRole>(o =>
    {
        o.User.RequireUniqueEmail = true;
        o.Lockout.MaxFailedAccessAttempts = 5;
        o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
    })
    .AddEntityFrameworkStores<AppDbContext>()
    .AddSignInManager<PleoSignInManager>()
    .AddDefaultTokenProviders();
// Every page request checks its cookie's security stamp against the database: signing out changes the stamp,
// so a copy of the cookie is refused at once, on every instance. It costs one query by primary key (the
// API never reads the cookie). A locked-out or deleted user is refused the same way (PleoSignInManager).
builder.Services.Configure<SecurityStampValidatorOptions>(o =>
{
    o.ValidationInterval = TimeSpan.Zero;
    // The check rebuilds the principal from the user row; the sign-in session's id goes on with it.
    o.OnRefreshingPrincipal = context =>
    {
        if (context.CurrentPrincipal?.FindFirst(PleoSignInManager.SessionClaim) is { } session && context.NewPrincipal?.Identity is System.Security.Claims.ClaimsIdentity identity)
        {
            identity.AddClaim(new System.Security.Claims.Claim(PleoSignInManager.SessionClaim, session.Value));
        }

        return Task.CompletedTask;
    };
});
builder.Services.ConfigureApplicationCookie(o =>
{
    o.LoginPath = "/Account/Login";
    o.LogoutPath = "/Account/Logout";
    o.Cookie.Name = "pleokeys.auth";
    o.Cookie.SameSite = SameSiteMode.Lax;
    o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
    // A forbidden page request answers 403 with an explanation (Pages/Status), not a redirect.
    o.Events.OnRedirectToAccessDenied = ctx =>
    {
        ctx.Response.StatusCode = StatusCodes.Status403Forbidden;
        return Task.CompletedTask;
    };
});
builder.Services.AddAntiforgery(o =>
{
    o.Cookie.Name = "pleokeys.af";
    o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
});
builder.Services.AddSingleton<KeyCreationLimits>();
builder.Services.AddSingleton<KeyReveals>();
builder.Services.AddSingleton<FormTickets>();
builder.Services.AddScoped<KeyRevocation>();
// Expiry reminders by email, from a background scan on every instance (the database sends each once).
builder.Services.AddExpiryReminders();
// Audits the end of a rolled key's grace period once it has passed (the API judges the end itself on every request).
builder.Services.AddHostedService<RolledSecretEnds>();
builder.Services.AddAuthentication(o =>
    {
        // API keys are the default scheme, and off the API they hand over to the sign-in cookie: the API
        // never reads the cookie, and a key is verified once per request, by UseAuthentication, so the
        // API policies need no scheme of their own.
        o.DefaultAuthenticateScheme = ApiKeyDefaults.Scheme;
        o.DefaultChallengeScheme = ApiKeyDefaults.Scheme;
    })
    .AddApiKeyAuthentication(o =>
        o.ForwardDefaultSelector = c => PleoApi.IsApiPath(c.Request.Path) ? null : IdentityConstants.ApplicationScheme);
builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, ApiAuthorizationResultHandler>();
builder.Services.AddApiRateLimiting();
// Per-key usage counted in memory and written in batches (Api/UsageRecorder); reports of exposed keys (Api/CredentialRevocations).
builder.Services.AddUsageRecording();
builder.Services.AddCredentialRevocations();
builder.Services.AddSignInRateLimiting();
builder.Services.AddPleoOpenApi();

builder.Services.AddScoped<CurrentCompany>();
// Every /v1 and /v2 endpoint carries AnyKeyPolicy: an authenticated key, called from inside its IP allowlist
// (AllowedNetworksRequirement; from elsewhere, 403). A scoped endpoint adds its scope policy, which holds only the
// scope claim: the framework combines the two per endpoint, so each requirement runs once a call.
var authorization = builder.Services.AddAuthorizationBuilder()
    .AddPolicy(ManageApiKeysRequirement.Policy, p => p.RequireAuthenticatedUser().AddRequirements(new ManageApiKeysRequirement()))
    .AddPolicy(PleoApi.AnyKeyPolicy, p => p.RequireAuthenticatedUser().AddRequirements(AllowedNetworksRequirement.Instance));
foreach (var scope in Scopes.All)
{
    authorization.AddPolicy(PleoApi.ScopePolicy(scope.Value), p => p.RequireClaim(ApiKeyDefaults.ScopeClaim, scope.Value));
}

builder.Services.AddRazorPages(o =>
{
    o.Conventions.AuthorizeFolder("/");
    o.Conventions.AllowAnonymousToPage("/Account/Login");
    o.Conventions.AllowAnonymousToPage("/Status");
    o.Conventions.AllowAnonymousToPage("/ApiReference");
    o.Conventions.AuthorizeFolder("/Settings/ApiKeys", ManageApiKeysRequirement.Policy);
    o.Conventions.ConfigureFilter(new PleoKeys.Web.Pages.RejectUnhandledMethodsFilter());
})
    // TempData carries status messages to the next page (never a key: see KeyReveals); Secure over HTTPS like the other cookies.
    .AddCookieTempDataProvider(o => o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest)
    // Every page's words come from Resources/SharedResource.*.resx (English is the neutral file); see AppCultures.
    .AddViewLocalization()
    .AddDataAnnotationsLocalization(o => o.DataAnnotationLocalizerProvider = (_, factory) => factory.Create(typeof(SharedResource)));
builder.Services.AddLocalization(o => o.ResourcesPath = "Resources");
builder.Services.AddHttpContextAccessor();
builder.Services.AddRequestLocalization(AppCultures.Configure);
builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = ApiBadRequests.Customize);
// A body the API cannot bind answers 400 problem details naming the field, the same in every environment:
// the framework throws for it everywhere (by default only in Development) and ApiBadRequests answers.
builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
builder.Services.AddExceptionHandler<ApiBadRequests>();
var app = builder.Build();

app.Logger.LogInformation("The host's culture is {HostCulture}; the app runs in {AppCulture} and offers {Cultures}.",
    hostCulture, AppCultures.Default, AppCultures.Supported);

// The keys' digest secret is read (or made) now, so a missing or broken one stops the start, not a request.
app.Services.GetRequiredService<KeyDigests>();

// ---- Database ----
await app.Services.MigrateAndSeedAsync();
await app.Services.RevokeKeysStoredInTheClearAsync();
if (await OperatorCommands.RunAsync(app.Services, args, Console.Out) is { } exitCode)
{
    return exitCode;
}

// Before taking traffic: after a deploy every active key's first call looks its key up (see KeyLookupWarmUp).
await app.Services.WarmUpKeyLookupAsync();

if (!app.Environment.IsDevelopment() && string.IsNullOrEmpty(app.Services.GetRequiredService<IOptions<PleoKeysOptions>>().Value.PublicBaseUrl))
{
    app.Logger.LogWarning("PleoKeys:PublicBaseUrl is not set: absolute URLs (the reveal's curl command, the OpenAPI server) use the address the server listens on.");
}

// ---- Pipeline ----
app.UseForwardedHeaders();
if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/Status/500");
    app.UseHsts();
    app.UseHttpsRedirection();
}

// The API's errors are problem details in every environment, never the developer page's stack trace.
app.UseWhen(c => PleoApi.IsApiPath(c.Request.Path), b => b.UseExceptionHandler());
app.UseSecurityHeaders();
// Pages answer errors with an explanation page; the API answers with problem details.
app.UseWhen(c => !PleoApi.IsApiPath(c.Request.Path), b => b.UseStatusCodePagesWithReExecute("/Status/{0}"));
app.UseWhen(c => PleoApi.IsApiPath(c.Request.Path), b => b.UseStatusCodePages());
app.UseStaticFiles();
app.UseRouting();
// Counts each API request against its key once the rest has answered (the final 401, 403 or 429 included).
app.UseUsageRecording();
app.UseAuthentication();
// After authentication: the signed-in user's stored language comes first (AppCultures). Pages only: the API answers
// integrators in English whatever their headers say (its problem details are not translated), in the process culture.
app.UseWhen(c => !PleoApi.IsApiPath(c.Request.Path), b => b.UseRequestLocalization());
app.UseAuthorization();
// After authorization, so the API key's identity is known and the limit is per key.
app.UseRateLimiter();
app.UseRateLimitHeaders();

// ---- Endpoints ----
app.MapRazorPages();
app.MapPleoApi();
app.MapCredentialRevocations();
app.MapOpenApi();

app.Run();
return 0;
