namespace PleoKeys.Web.ApiKeys;

/// <summary>
/// The one place BCrypt is called. It is a seam so tests can count calls (the cache's promise is
/// "one BCrypt verify per key per process", which a timing test could not prove).
/// </summary>
public interface IKeySecretHasher
{
    string Hash(string key);

    bool Verify(string key, string hash);
}

public sealed class BCryptKeySecretHasher(int workFactor) : IKeySecretHasher
{
    // Keys are 61 ASCII bytes, under BCrypt's 72-byte limit, so every character is hashed as is.
    public string Hash(string key) => BCrypt.Net.BCrypt.HashPassword(key, workFactor);

    // The hash carries its own work factor, so raising the configured one keeps old keys valid.
    public bool Verify(string key, string hash) => BCrypt.Net.BCrypt.Verify(key, hash);
}
