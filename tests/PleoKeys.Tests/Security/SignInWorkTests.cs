using System.Collections.Concurrent;
using System.Data.Common;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Security;

/// <summary>The app with every SQL command and every password-hash call recorded, for the sign-in's work.</summary>
public sealed class SignInWorkFactory : PleoKeysFactory
{
    private int _verifications;
    private int _hashes;

    public ConcurrentQueue<string> Commands { get; } = new();

    public int Verifications => Volatile.Read(ref _verifications);

    public int Hashes => Volatile.Read(ref _hashes);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services =>
        {
            var recorder = new CommandRecorder(this);
            services.ConfigureDbContext<SqliteAppDbContext>(o => o.AddInterceptors(recorder));
            services.ConfigureDbContext<PostgresAppDbContext>(o => o.AddInterceptors(recorder));
            services.AddScoped<IPasswordHasher<AppUser>>(sp =>
                new CountingPasswordHasher(new PasswordHasher<AppUser>(sp.GetRequiredService<IOptions<PasswordHasherOptions>>()), this));
        });
    }

    private sealed class CommandRecorder(SignInWorkFactory owner) : DbCommandInterceptor
    {
        public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
        {
            owner.Commands.Enqueue(command.CommandText);
            return result;
        }

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            owner.Commands.Enqueue(command.CommandText);
            return ValueTask.FromResult(result);
        }

        public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            owner.Commands.Enqueue(command.CommandText);
            return ValueTask.FromResult(result);
        }

        public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
        {
            owner.Commands.Enqueue(command.CommandText);
            return ValueTask.FromResult(result);
        }
    }

    private sealed class CountingPasswordHasher(IPasswordHasher<AppUser> inner, SignInWorkFactory owner) : IPasswordHasher<AppUser>
    {
        public string HashPassword(AppUser user, string password)
        {
            Interlocked.Increment(ref owner._hashes);
            return inner.HashPassword(user, password);
        }

        public PasswordVerificationResult VerifyHashedPassword(AppUser user, string hashedPassword, string providedPassword)
        {
            Interlocked.Increment(ref owner._verifications);
            return inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }
}

/// <summary>
/// Sign-in that tells nothing by its timing (issue 12): an unknown email, a wrong password and a locked account
/// do the same work, proven by what they do (the SQL commands they send and the hash work), not by a stopwatch.
/// </summary>
public sealed class SignInWorkTests(SignInWorkFactory factory) : IClassFixture<SignInWorkFactory>
{
    private const string WrongPassword = "Not-The-Password-1!";

    private sealed record Work(string[] Commands, int Verifications, int Hashes);

    /// <summary>Posts the sign-in form (the page itself fetched first, outside the measurement) and records its work.</summary>
    private async Task<Work> SignInWorkAsync(string email, string password)
    {
        var client = factory.NewClient();
        var page = await client.GetDocumentAsync("/Account/Login");
        factory.Commands.Clear();
        var (verifications, hashes) = (factory.Verifications, factory.Hashes);

        var response = await client.SubmitAsync(page.Form(), ("Input.Email", email), ("Input.Password", password));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new Work([.. factory.Commands], factory.Verifications - verifications, factory.Hashes - hashes);
    }

    [Fact]
    public async Task UnknownEmail_WrongPassword_AndLockedAccount_DoTheSameWork()
    {
        await factory.WithDbAsync(db => db.Users.Where(u => u.Email == DemoData.FjordAdmin)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.LockoutEnd, DateTimeOffset.UtcNow.AddDays(1))));
        await SignInWorkAsync("warm-up@nordiccoffee.example", WrongPassword);

        // Measured: a wrong password took about 1.7 ms longer than an unknown email (the failed-attempt counter write).
        var unknown = await SignInWorkAsync("nobody@nordiccoffee.example", WrongPassword);
        var wrong = await SignInWorkAsync(DemoData.Bookkeeper, WrongPassword);
        var locked = await SignInWorkAsync(DemoData.FjordAdmin, DemoData.Password);

        Assert.Equal(unknown.Commands, wrong.Commands);
        Assert.Equal(unknown.Commands, locked.Commands);
        Assert.Equal(1, unknown.Commands.Count(c => c.Contains("UPDATE", StringComparison.OrdinalIgnoreCase)));
        Assert.Equal(1, unknown.Commands.Count(c => c.Contains("INSERT", StringComparison.OrdinalIgnoreCase)));
        Assert.Equal([1, 1, 1], [unknown.Verifications, wrong.Verifications, locked.Verifications]);
        Assert.Equal([0, 0, 0], [unknown.Hashes, wrong.Hashes, locked.Hashes]);
    }

    [Fact]
    public async Task ManyFailedSignInsRacing_NeverFail_AndAllCount()
    {
        var email = DemoData.Employee;
        var client = factory.NewClient();
        var page = await client.GetDocumentAsync("/Account/Login");

        var answers = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ =>
            client.SubmitAsync(page.Form(), ("Input.Email", email), ("Input.Password", WrongPassword))));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        var user = await factory.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Email == email));
        Assert.True(user.LockoutEnd > DateTimeOffset.UtcNow.AddMinutes(10), "racing failures did not lock the account");
        var failures = await factory.WithDbAsync(db => db.AuditEvents.CountAsync(e => e.ActorUserId == user.Id && e.Action == AuditActions.SignInFailed));
        Assert.Equal(24, failures);
    }
}
