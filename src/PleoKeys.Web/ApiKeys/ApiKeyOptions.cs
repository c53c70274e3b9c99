using System.ComponentModel.DataAnnotations;

namespace PleoKeys.Web.ApiKeys;

/// <summary>
/// The <c>PleoKeys</c> configuration section, validated at start (<c>ValidateDataAnnotations</c>,
/// <c>ValidateOnStart</c>): each message names the setting as it is configured.
/// </summary>
public sealed class PleoKeysOptions
{
    public const string Section = "PleoKeys";

    /// <summary>Staging or Production: keys carry it in their text and work only here.</summary>
    [EnumDataType(typeof(KeyEnvironment), ErrorMessage = "PleoKeys:Environment must be Staging or Production.")]
    public KeyEnvironment Environment { get; set; } = KeyEnvironment.Staging;

    /// <summary>BCrypt's cost for new keys' hashes (2^factor rounds); BCrypt.Net takes 4 to 31.</summary>
    [Range(4, 31, ErrorMessage = "PleoKeys:BCryptWorkFactor must be between {1} and {2}.")]
    public int BCryptWorkFactor { get; set; } = 11;

    /// <summary>Requests per minute per key (Pleo's observed limit is 600).</summary>
    [Range(1, int.MaxValue, ErrorMessage = "PleoKeys:RequestsPerMinute must be at least {1}.")]
    public int RequestsPerMinute { get; set; } = 600;

    /// <summary>Consumer mail domains whose accounts may not create keys.</summary>
    public List<string> PersonalEmailDomains { get; set; } = [];

    /// <summary>Failed authentications a client address may make per minute before it gets 429.</summary>
    [Range(1, int.MaxValue, ErrorMessage = "PleoKeys:FailedAuthPerMinutePerClient must be at least {1}.")]
    public int FailedAuthPerMinutePerClient { get; set; } = 60;

    /// <summary>Failed authentications per minute against one key id that are audited as a burst (once a minute); nobody is refused for them.</summary>
    [Range(1, int.MaxValue, ErrorMessage = "PleoKeys:FailedAuthPerMinutePerKey must be at least {1}.")]
    public int FailedAuthPerMinutePerKey { get; set; } = 10;

    /// <summary>
    /// How long a client over its failed-authentication budget that was guessing secrets of real keys waits
    /// for its 429 (a tarpit): such a flood then costs its sender time and the server almost nothing.
    /// Zero answers at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00", ErrorMessage = "PleoKeys:ThrottledResponseDelay must be between 00:00:00 and 00:01:00, such as 00:00:01.")]
    public TimeSpan ThrottledResponseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Sign-in attempts a client address may make per minute before it gets 429.</summary>
    [Range(1, int.MaxValue, ErrorMessage = "PleoKeys:SignInAttemptsPerMinutePerClient must be at least {1}.")]
    public int SignInAttemptsPerMinutePerClient { get; set; } = 20;

    /// <summary>API keys one user may create per minute, per instance (each costs a BCrypt hash).</summary>
    [Range(1, int.MaxValue, ErrorMessage = "PleoKeys:KeyCreationsPerMinutePerUser must be at least {1}.")]
    public int KeyCreationsPerMinutePerUser { get; set; } = 10;

    /// <summary>
    /// Keys a company may have active (neither deleted nor expired) at once, organisation keys counted in the
    /// company they were created in. Cloudflare caps tokens at 50 per user and 500 per account.
    /// </summary>
    [Range(1, int.MaxValue, ErrorMessage = "PleoKeys:MaxActiveKeysPerCompany must be at least {1}.")]
    public int MaxActiveKeysPerCompany { get; set; } = 100;

    public bool SeedDemoData { get; set; }

    public const string DefaultSecretsPath = "secrets";

    /// <summary>
    /// The folder for secrets the server keeps outside the database (relative paths are taken from the content
    /// root; git-ignored). Holds the certificate that encrypts the Data Protection key ring when
    /// <c>DataProtection:CertificatePath</c> is not set, created on first run.
    /// </summary>
    [Required(ErrorMessage = "PleoKeys:SecretsPath must name a folder.")]
    public string SecretsPath { get; set; } = DefaultSecretsPath;

    /// <summary>
    /// The file holding the server secret of the keys' HMAC digests (<see cref="KeyDigests"/>), shared by every
    /// instance. When set, the file must exist; when empty, <c>key-digest.secret</c> in <see cref="SecretsPath"/>,
    /// created on first run.
    /// </summary>
    public string? KeyDigestSecretPath { get; set; }

    /// <summary>
    /// The address clients reach the app at, such as https://keys.example.com: the start of every absolute URL
    /// the app prints (see <see cref="PublicUrls"/>). Unset, the address the server listens on.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>
    /// How often each instance adds the API usage it counted in memory to the database (Api/UsageRecorder); a crash
    /// loses at most this much. One minute by default.
    /// </summary>
    public TimeSpan UsageFlushInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Reports a client address may send to POST /v1/credential-revocations per minute before it gets 429.</summary>
    public int CredentialRevocationsPerMinutePerClient { get; set; } = 10;
}
