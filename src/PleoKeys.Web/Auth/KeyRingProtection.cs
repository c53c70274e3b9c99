using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Auth;

/// <summary>The <c>DataProtection</c> configuration section: the certificate that encrypts the key ring at rest.</summary>
public sealed class KeyRingOptions
{
    public const string Section = "DataProtection";

    /// <summary>
    /// A PKCS#12 (.pfx) file with the certificate and its RSA private key, shared by every instance (a mounted
    /// secret). Relative paths are taken from the content root. When set, the file must exist: a missing mount
    /// fails the start instead of quietly giving this instance a key ring of its own. When empty, the app uses
    /// <c>dataprotection.pfx</c> in <see cref="PleoKeysOptions.SecretsPath"/>, created on first run.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The .pfx file's password, if it has one.</summary>
    public string? CertificatePassword { get; set; }
}

/// <summary>
/// Keeps the Data Protection key ring (which protects sign-in cookies, antiforgery tokens and TempData) useless
/// without a secret that lives outside the database: each key is stored encrypted to an RSA certificate
/// (<c>ProtectKeysWithCertificate</c>, XML Encryption), so a copy of the database or a dump of it decrypts
/// and forges nothing.
/// </summary>
public static class KeyRingProtection
{
    public const string GeneratedCertificateFileName = "dataprotection.pfx";

    /// <summary>
    /// The configured certificate, or the one in the secrets folder, created there on first run (RSA 3072, the
    /// size NIST SP 800-57 pairs with 128-bit security; file mode 0600, folder 0700).
    /// </summary>
    /// <exception cref="InvalidOperationException">A configured certificate file is missing, unreadable or has no private key.</exception>
    public static X509Certificate2 LoadCertificate(IConfiguration configuration, IHostEnvironment environment)
    {
        var options = configuration.GetSection(KeyRingOptions.Section).Get<KeyRingOptions>() ?? new KeyRingOptions();
        if (!string.IsNullOrWhiteSpace(options.CertificatePath))
        {
            var configured = Path.GetFullPath(options.CertificatePath, environment.ContentRootPath);
            if (!File.Exists(configured))
            {
                throw new InvalidOperationException(
                    $"DataProtection:CertificatePath is {configured}, which does not exist. Mount the shared certificate there, or leave the setting empty to let a single instance create its own.");
            }

            return Load(configured, options.CertificatePassword);
        }

        var secrets = configuration.GetSection(PleoKeysOptions.Section).Get<PleoKeysOptions>()?.SecretsPath ?? PleoKeysOptions.DefaultSecretsPath;
        if (string.IsNullOrWhiteSpace(secrets))
        {
            // Read here, before the options are validated at start, so this gives the validation's message.
            throw new InvalidOperationException("PleoKeys:SecretsPath must name a folder.");
        }

        var folder = Path.GetFullPath(secrets, environment.ContentRootPath);
        var path = Path.Combine(folder, GeneratedCertificateFileName);
        if (!File.Exists(path))
        {
            CreateCertificate(path);
        }

        return Load(path, password: null);
    }

    private static X509Certificate2 Load(string path, string? password)
    {
        try
        {
            // Ephemeral: the private key stays in this process's memory, never copied into a user key store.
            // macOS cannot hold ephemeral keys, so there the platform default applies.
            var flags = OperatingSystem.IsMacOS() ? X509KeyStorageFlags.DefaultKeySet : X509KeyStorageFlags.EphemeralKeySet;
            var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password, flags);
            if (certificate.GetRSAPrivateKey() is not { } key)
            {
                certificate.Dispose();
                throw new InvalidOperationException($"The Data Protection certificate {path} has no RSA private key.");
            }

            key.Dispose();
            return certificate;
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException($"The Data Protection certificate {path} could not be read (wrong DataProtection:CertificatePassword?): {e.Message}", e);
        }
    }

    private static void CreateCertificate(string path)
    {
        using var rsa = RSA.Create(3072);
        var request = new CertificateRequest("CN=PleoKeys Data Protection", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment, critical: true));
        // Data Protection checks neither chain nor dates when it encrypts to or decrypts with this certificate;
        // the long validity only keeps tools that do from calling it expired.
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(100));
        SecretFiles.Write(path, certificate.Export(X509ContentType.Pkcs12), overwrite: false);
    }

    /// <summary>
    /// Revokes the keys a previous version stored in the clear (before the ring was encrypted): anyone holding
    /// an old copy of the database knows them. Their cookies stop working once, and the key ring makes a new,
    /// encrypted default key. Keys this instance cannot decrypt are left alone (they may be another
    /// certificate's, and are of no use to this instance anyway).
    /// </summary>
    public static async Task RevokeKeysStoredInTheClearAsync(this IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var stored = await db.DataProtectionKeys.AsNoTracking().Select(k => k.Xml).ToListAsync();
        var inTheClear = new List<Guid>();
        foreach (var xml in stored)
        {
            if (string.IsNullOrEmpty(xml))
            {
                continue;
            }

            var element = XElement.Parse(xml);
            // An encrypted key carries <encryptedSecret> (in the Data Protection XML namespace); one in the clear
            // carries its master key as <value>.
            if (element.Name.LocalName == "key" && !element.Descendants().Any(e => e.Name.LocalName == "encryptedSecret")
                && Guid.TryParse((string?)element.Attribute("id"), out var id))
            {
                inTheClear.Add(id);
            }
        }

        if (inTheClear.Count == 0)
        {
            return;
        }

        var keyManager = services.GetRequiredService<IKeyManager>();
        var revoked = keyManager.GetAllKeys().Where(k => k.IsRevoked).Select(k => k.KeyId).ToHashSet();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(KeyRingProtection));
        foreach (var id in inTheClear.Where(id => !revoked.Contains(id)))
        {
            keyManager.RevokeKey(id, "Stored in the database without encryption; replaced by a key encrypted at rest.");
            logger.LogWarning("Data Protection key {KeyId} was stored without encryption and has been revoked; sessions it protected must sign in again.", id);
        }
    }
}
