using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using System.Data.Common;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace PleoKeys.Web.Data;

/// <summary>
/// The model, shared by both providers. Each provider has a subclass with its own migrations
/// (<see cref="SqliteAppDbContext"/>, <see cref="PostgresAppDbContext"/>); the app always asks for this type.
/// </summary>
public class AppDbContext(DbContextOptions options) : IdentityDbContext<AppUser>(options), IDataProtectionKeyContext
{
    public DbSet<Organisation> Organisations => Set<Organisation>();
    public DbSet<Company> Companies => Set<Company>();
    public DbSet<Membership> Memberships => Set<Membership>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<KeyReveal> KeyReveals => Set<KeyReveal>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<KeyReminder> KeyReminders => Set<KeyReminder>();
    public DbSet<KeyUsageHour> KeyUsageHours => Set<KeyUsageHour>();
    public DbSet<KeyUsageAddress> KeyUsageAddresses => Set<KeyUsageAddress>();
    public DbSet<Employee> Employees => Set<Employee>();
    public DbSet<Vendor> Vendors => Set<Vendor>();
    public DbSet<Account> Accounts => Set<Account>();
    public DbSet<ExportJob> ExportJobs => Set<ExportJob>();

    /// <summary>The Data Protection key ring, shared by every app instance (cookies, antiforgery, TempData).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    /// <summary>
    /// Every context refuses audit rewrites (<see cref="AuditAppendOnlyInterceptor"/>). The app registers the interceptor
    /// with its pooled contexts (DatabaseSetup), where OnConfiguring may not change the options; a context built by hand
    /// (a tool, a test) gets it here.
    /// </summary>
    protected override void OnConfiguring(DbContextOptionsBuilder optionsBuilder)
    {
        if (optionsBuilder.Options.FindExtension<Microsoft.EntityFrameworkCore.Infrastructure.CoreOptionsExtension>()?.Interceptors?.Contains(AuditAppendOnlyInterceptor.Instance) != true)
        {
            optionsBuilder.AddInterceptors(AuditAppendOnlyInterceptor.Instance);
        }
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        RefuseAuditChanges();
        RequireKeyChangeStamps();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        RefuseAuditChanges();
        RequireKeyChangeStamps();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    /// <summary>The audit trail is append-only: an audit row can be added, never changed or removed.</summary>
    private void RefuseAuditChanges()
    {
        if (ChangeTracker.Entries<AuditEvent>().Any(e => e.State is EntityState.Modified or EntityState.Deleted))
        {
            throw new InvalidOperationException("Audit events are append-only: they cannot be updated or deleted.");
        }
    }

    /// <summary>
    /// Other instances learn of a change to a key by its <see cref="ApiKey.ChangedAtUtc"/> and
    /// <see cref="ApiKey.ChangeCount"/> (KeyChangePoller), so a change that does not move them would stay unseen
    /// there: a new key is stamped with its creation time, and an update that changes anything but the columns no
    /// verifier caches (last used, the folded search name) without <see cref="ApiKey.MarkChanged"/> is refused. (ExecuteUpdate bypasses this check: its
    /// callers set both columns themselves.)
    /// </summary>
    private void RequireKeyChangeStamps()
    {
        foreach (var entry in ChangeTracker.Entries<ApiKey>())
        {
            if (entry.State == EntityState.Added && entry.Entity.ChangedAtUtc == default)
            {
                entry.Entity.ChangedAtUtc = entry.Entity.CreatedAtUtc;
            }
            else if (entry.State == EntityState.Modified
                && !entry.Property(k => k.ChangeCount).IsModified
                && entry.Properties.Any(p => p.IsModified && p.Metadata.Name is not (nameof(ApiKey.LastUsedAtUtc) or nameof(ApiKey.LastUsedIp) or nameof(ApiKey.NormalizedName))))
            {
                throw new InvalidOperationException(
                    $"API key {entry.Entity.KeyId} was changed without {nameof(ApiKey.MarkChanged)}; other instances would not see the change.");
            }
        }
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every DateTime is a UTC instant. SQLite cannot compare DateTimeOffset in SQL, and it hands
        // DateTime back as Unspecified; the converter marks it UTC again on the way out.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<NullableUtcConverter>();
        configurationBuilder.Properties<Enum>().HaveConversion<string>().HaveMaxLength(32);
    }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);

        builder.Entity<Organisation>(e =>
        {
            e.Property(o => o.Name).HasMaxLength(200);
            e.HasMany(o => o.Companies).WithOne(c => c.Organisation).HasForeignKey(c => c.OrganisationId);
        });
        builder.Entity<Company>(e =>
        {
            e.Property(c => c.Name).HasMaxLength(200);
            e.Property(c => c.Country).HasMaxLength(2);
            e.Property(c => c.TimeZoneId).HasMaxLength(64);
        });
        builder.Entity<Membership>(e =>
        {
            e.HasIndex(m => m.UserId);
            e.HasOne<AppUser>().WithMany().HasForeignKey(m => m.UserId);
            e.HasOne<Organisation>().WithMany().HasForeignKey(m => m.OrganisationId);
            e.HasOne<Company>().WithMany().HasForeignKey(m => m.CompanyId);
        });
        builder.Entity<ApiKey>(e =>
        {
            e.Property(k => k.KeyId).HasMaxLength(16);
            e.HasIndex(k => k.KeyId).IsUnique();
            e.Property(k => k.Last4).HasMaxLength(4);
            e.Property(k => k.SecretHash).HasMaxLength(100);
            e.Property(k => k.SecretDigest).HasMaxLength(PleoKeys.Web.ApiKeys.KeyDigests.Length);
            e.Property(k => k.DigestSecretId).HasMaxLength(16);
            e.Property(k => k.Name).HasMaxLength(100);
            // No length limit: folding can lengthen a name (ß → ss, ΐ → three code points).
            e.Property(k => k.Scopes).HasMaxLength(1000);
            e.Property(k => k.CreatedByUserId).HasMaxLength(450);
            e.Property(k => k.CreatedByName).HasMaxLength(256);
            e.Property(k => k.LastUsedIp).HasMaxLength(64);
            e.HasOne(k => k.Company).WithMany().HasForeignKey(k => k.CompanyId);
            e.HasOne<Organisation>().WithMany().HasForeignKey(k => k.OrganisationId);
            // The list reads "keys of this company, plus organisation keys of its organisation", newest first.
            e.HasIndex(k => new { k.CompanyId, k.CreatedAtUtc });
            e.HasIndex(k => new { k.OrganisationId, k.AccessLevel, k.CreatedAtUtc });
            // Creating and rolling count the company's working keys (PleoKeys:MaxActiveKeysPerCompany), twice a creation:
            // from this index (on SQLite without reading the rows: 10,000 keys, about 1 ms a count instead of 7).
            e.HasIndex(k => new { k.CompanyId, k.DeletedAtUtc, k.ExpiresAtUtc, k.SecretStopsAtUtc });
            // Every instance polls "keys changed since …" (KeyChangePoller), the fallback to LISTEN/NOTIFY on
            // PostgreSQL and the only way a change made by another process (the operator command) reaches SQLite.
            e.HasIndex(k => k.ChangedAtUtc);
            // The expiry reminders read keys by expiry range (Reminders/ExpiryReminders).
            e.HasIndex(k => k.ExpiresAtUtc);
            e.Property(k => k.SubmissionId).HasMaxLength(32);
            e.HasIndex(k => k.SubmissionId).IsUnique();
            // Rolls reach other instances' pollers like deletions do; ended grace periods are audited by range.
            e.HasIndex(k => k.RolledAtUtc);
            e.HasIndex(k => new { k.SecretEndAuditedAtUtc, k.SecretStopsAtUtc });
            e.HasIndex(k => k.ReplacedByKeyId);
            // Up to 50 entries of at most 43 characters (a full IPv6 CIDR), separated by spaces.
            e.Property(k => k.AllowedNetworks).HasMaxLength(2200);
            e.Ignore(k => k.Fingerprint);
        });
        builder.Entity<KeyReveal>(e =>
        {
            e.HasKey(r => r.ApiKeyId);
            e.HasOne<ApiKey>().WithOne().HasForeignKey<KeyReveal>(r => r.ApiKeyId);
            e.Property(r => r.UserId).HasMaxLength(450);
            e.Property(r => r.SessionStamp).HasMaxLength(256);
            e.Property(r => r.ProtectedKey).HasMaxLength(1000);
            // Expired reveals are swept by range.
            e.HasIndex(r => r.ExpiresAtUtc);
        });
        builder.Entity<KeyReminder>(e =>
        {
            // One row per key and threshold: the key that makes a reminder "sent once" across instances.
            e.HasKey(r => new { r.ApiKeyId, r.Threshold });
            e.HasOne<ApiKey>().WithMany().HasForeignKey(r => r.ApiKeyId);
            // Days before expiry, compared in SQL ("this reminder or a later one"), so a number rather than the name.
            e.Property(r => r.Threshold).HasConversion<int>();
            e.Property(r => r.LastError).HasMaxLength(500);
            // Each scan reads the reminders due to be (re)tried.
            e.HasIndex(r => r.NextAttemptAtUtc);
        });
        builder.Entity<KeyUsageHour>(e =>
        {
            // One row per key, hour, endpoint and outcome: every instance's flush adds to it (INSERT … ON CONFLICT).
            e.HasKey(u => new { u.ApiKeyId, u.HourUtc, u.Endpoint, u.Outcome });
            e.HasOne<ApiKey>().WithMany().HasForeignKey(u => u.ApiKeyId);
            e.Property(u => u.Endpoint).HasMaxLength(100);
            e.Property(u => u.EndpointGroup).HasMaxLength(32);
            e.Property(u => u.Scope).HasMaxLength(32);
            // The prune deletes by age.
            e.HasIndex(u => u.HourUtc);
        });
        builder.Entity<KeyUsageAddress>(e =>
        {
            e.HasKey(a => new { a.ApiKeyId, a.Address });
            e.HasOne<ApiKey>().WithMany().HasForeignKey(a => a.ApiKeyId);
            e.Property(a => a.Address).HasMaxLength(64);
            e.HasIndex(a => a.LastSeenUtc);
        });
        builder.Entity<AuditEvent>(e =>
        {
            e.Property(a => a.Action).HasMaxLength(64);
            e.Property(a => a.IpAddress).HasMaxLength(64);
            e.Property(a => a.KeyFingerprint).HasMaxLength(64);
            e.Property(a => a.ActorName).HasMaxLength(256);
            e.Property(a => a.Detail).HasMaxLength(1000);
            e.HasIndex(a => new { a.ApiKeyId, a.AtUtc });
            e.HasIndex(a => new { a.CompanyId, a.AtUtc });
        });
        builder.Entity<Employee>(e => e.HasIndex(x => x.CompanyId));
        builder.Entity<Vendor>(e =>
        {
            e.HasIndex(x => x.CompanyId);
            e.Property(x => x.Name).HasMaxLength(200);
        });
        builder.Entity<Account>(e =>
        {
            e.HasIndex(x => x.CompanyId);
            e.Property(x => x.Name).HasMaxLength(200);
            e.Property(x => x.Code).HasMaxLength(20);
        });
        builder.Entity<ExportJob>(e => e.HasIndex(x => x.CompanyId));
    }

    private sealed class UtcConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));

    private sealed class NullableUtcConverter() : ValueConverter<DateTime?, DateTime?>(
        v => v.HasValue ? (v.Value.Kind == DateTimeKind.Utc ? v : v.Value.ToUniversalTime()) : v,
        v => v.HasValue ? DateTime.SpecifyKind(v.Value, DateTimeKind.Utc) : v);
}

/// <summary>
/// Refuses UPDATE and DELETE statements on the audit table, which would otherwise get past
/// <see cref="AppDbContext.SaveChanges(bool)"/> through ExecuteUpdate, ExecuteDelete or raw SQL.
/// </summary>
public sealed partial class AuditAppendOnlyInterceptor : DbCommandInterceptor
{
    public static readonly AuditAppendOnlyInterceptor Instance = new();

    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        Refuse(command);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Refuse(command);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        Refuse(command);
        return result;
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        Refuse(command);
        return ValueTask.FromResult(result);
    }

    private static void Refuse(DbCommand command)
    {
        if (ChangesAudit().IsMatch(command.CommandText))
        {
            throw new InvalidOperationException("Audit events are append-only: they cannot be updated or deleted.");
        }
    }

    // UPDATE "AuditEvents" / DELETE FROM "AuditEvents" (with or without an alias), in any statement of a batch.
    [GeneratedRegex(@"\b(UPDATE|DELETE\s+FROM)\s+""?AuditEvents""?(\s|$)", RegexOptions.IgnoreCase)]
    private static partial Regex ChangesAudit();
}
