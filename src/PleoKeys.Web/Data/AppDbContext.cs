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
    public DbSet<Employee> Employees => Set<Employee>();
    public DbSet<Vendor> Vendors => Set<Vendor>();
    public DbSet<Account> Accounts => Set<Account>();
    public DbSet<ExportJob> ExportJobs => Set<ExportJob>();

    /// <summary>The Data Protection key ring, shared by every app instance (cookies, antiforgery, TempData).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    protected override void OnConfiguring(DbContextOptionsBuilder optionsBuilder) =>
        optionsBuilder.AddInterceptors(AuditAppendOnlyInterceptor.Instance);

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        RefuseAuditChanges();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        RefuseAuditChanges();
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
            e.Property(k => k.Name).HasMaxLength(100);
            e.Property(k => k.NormalizedName).HasMaxLength(100);
            e.Property(k => k.Scopes).HasMaxLength(1000);
            e.Property(k => k.CreatedByUserId).HasMaxLength(450);
            e.Property(k => k.CreatedByName).HasMaxLength(256);
            e.Property(k => k.LastUsedIp).HasMaxLength(64);
            e.HasOne(k => k.Company).WithMany().HasForeignKey(k => k.CompanyId);
            e.HasOne<Organisation>().WithMany().HasForeignKey(k => k.OrganisationId);
            // The list reads "keys of this company, plus organisation keys of its organisation", newest first.
            e.HasIndex(k => new { k.CompanyId, k.CreatedAtUtc });
            e.HasIndex(k => new { k.OrganisationId, k.AccessLevel, k.CreatedAtUtc });
            // Other instances poll "keys deleted since …" as the fallback to LISTEN/NOTIFY (KeyChangePoller).
            e.HasIndex(k => k.DeletedAtUtc);
            e.Property(k => k.SubmissionId).HasMaxLength(32);
            e.HasIndex(k => k.SubmissionId).IsUnique();
            // Rolls reach other instances' pollers like deletions do; ended grace periods are audited by range.
            e.HasIndex(k => k.RolledAtUtc);
            e.HasIndex(k => new { k.SecretEndAuditedAtUtc, k.SecretStopsAtUtc });
            e.HasIndex(k => k.ReplacedByKeyId);
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
