namespace PleoKeys.Web.ApiKeys;

/// <summary>The <c>PleoKeys</c> configuration section.</summary>
public sealed class PleoKeysOptions
{
    public const string Section = "PleoKeys";

    /// <summary>Staging or Production: keys carry it in their text and work only here.</summary>
    public KeyEnvironment Environment { get; set; } = KeyEnvironment.Staging;

    public int BCryptWorkFactor { get; set; } = 11;

    /// <summary>Requests per minute per key (Pleo's observed limit is 600).</summary>
    public int RequestsPerMinute { get; set; } = 600;

    /// <summary>Consumer mail domains whose accounts may not create keys.</summary>
    public List<string> PersonalEmailDomains { get; set; } = [];

    /// <summary>Failed authentications a client address may make per minute before it gets 429.</summary>
    public int FailedAuthPerMinutePerClient { get; set; } = 60;

    /// <summary>Failed authentications per minute against one key id before it gets 429.</summary>
    public int FailedAuthPerMinutePerKey { get; set; } = 10;

    /// <summary>
    /// How long a client over its failed-authentication budget that was guessing secrets of real keys waits
    /// for its 429 (a tarpit): such a flood then costs its sender time and the server almost nothing.
    /// Zero answers at once.
    /// </summary>
    public TimeSpan ThrottledResponseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Sign-in attempts a client address may make per minute before it gets 429.</summary>
    public int SignInAttemptsPerMinutePerClient { get; set; } = 20;

    public bool SeedDemoData { get; set; }

    /// <summary>
    /// The address clients reach the app at, such as https://keys.example.com: the start of every absolute URL
    /// the app prints (see <see cref="PublicUrls"/>). Unset, the address the server listens on.
    /// </summary>
    public string? PublicBaseUrl { get; set; }
}
