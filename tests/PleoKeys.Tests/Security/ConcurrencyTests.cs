using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using AngleSharp.Html.Dom;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.Tests.Security;

/// <summary>
/// 500 creates and 250 deletes at once, through HTTP, on the factory's SQLite file (WAL, busy timeout):
/// nothing is lost, nothing is doubled, nothing answers 500.
/// </summary>
public sealed class ConcurrencyTests(PleoKeysFactory factory, ITestOutputHelper output) : IClassFixture<PleoKeysFactory>
{
    private const int Creates = 500;

    [Fact]
    public async Task ConcurrentCreatesAndDeletes_EveryRevealedKeyExistsOnceAndWorks_EveryConfirmedDeleteHolds()
    {
        var (_, cookies) = await factory.SignedInClientWithCookiesAsync(DemoData.Admin);
        var rowsBefore = await factory.KeyCountAsync();
        var revealed = new ConcurrentBag<(string Key, Guid Id)>();
        var deleted = new ConcurrentBag<Guid>();
        var failures = new ConcurrentBag<string>();
        var serverErrors = 0;
        var clock = Stopwatch.StartNew();

        await Task.WhenAll(Enumerable.Range(0, Creates).Select(i => Task.Run(async () =>
        {
            // A browser tab of its own, with its own forms.
            var browser = NewBrowser(cookies);
            var api = factory.NewClient();
            var (token, ticket) = await browser.FormTokensAsync("/Settings/ApiKeys/Create");
            var create = await browser.PostFormAsync("/Settings/ApiKeys/Create", PageHelpers.CreateFields(token, $"Concurrent {i}", ticket: ticket));
            if (!Check(create, HttpStatusCode.Redirect, $"create {i}"))
            {
                return;
            }

            var reveal = await Html.ParseAsync(await browser.GetAsync(create.Headers.Location));
            if (reveal.QuerySelector("#new-key") is not IHtmlInputElement input)
            {
                failures.Add($"create {i}: the reveal showed no key");
                return;
            }

            var key = input.Value;
            var installation = await api.ApiGetAsync("/v1/installations/me", key);
            if (!Check(installation, HttpStatusCode.OK, $"first use {i}"))
            {
                return;
            }

            using var json = System.Text.Json.JsonDocument.Parse(await installation.Content.ReadAsStringAsync());
            var id = json.RootElement.GetProperty("id").GetGuid();
            revealed.Add((key, id));
            if (i % 2 == 0)
            {
                var (deleteToken, deleteTicket) = await browser.FormTokensAsync($"/Settings/ApiKeys/Delete/{id}");
                var delete = await browser.PostFormAsync($"/Settings/ApiKeys/Delete/{id}",
                    [new("__RequestVerificationToken", deleteToken), new(PleoKeys.Web.Auth.FormTicket.FieldName, deleteTicket)]);
                if (Check(delete, HttpStatusCode.Redirect, $"delete {i}"))
                {
                    deleted.Add(id);
                }
            }
        })));
        var elapsed = clock.Elapsed;

        Assert.True(failures.IsEmpty, string.Join('\n', failures.Take(20)));
        Assert.Equal(0, serverErrors);
        Assert.Equal(Creates, revealed.Count);
        Assert.Equal(Creates / 2, deleted.Count);

        // Every revealed key is one row (no doubles, no orphans), works unless deleted, and every confirmed delete holds.
        var rows = await factory.WithDbAsync(db => db.ApiKeys.AsNoTracking().Where(k => k.Name.StartsWith("Concurrent "))
            .Select(k => new { k.Id, k.KeyId, k.DeletedAtUtc }).ToListAsync());
        Assert.Equal(Creates, rows.Count);
        Assert.Equal(rowsBefore + Creates, await factory.KeyCountAsync());
        var byId = rows.ToDictionary(r => r.Id);
        var api = factory.NewClient();
        foreach (var (key, id) in revealed)
        {
            ApiKeyFormat.TryParse(key, out var parsed);
            Assert.Equal(parsed!.KeyId, byId[id].KeyId);
            var shouldBeDeleted = deleted.Contains(id);
            Assert.Equal(shouldBeDeleted, byId[id].DeletedAtUtc is not null);
            var use = await api.ApiGetAsync("/v1/installations/me", key);
            Assert.Equal(shouldBeDeleted ? HttpStatusCode.Unauthorized : HttpStatusCode.OK, use.StatusCode);
        }

        var audit = await factory.WithDbAsync(async db => (
            Created: await db.AuditEvents.CountAsync(e => e.Action == AuditActions.KeyCreated && e.Detail!.Contains("Concurrent ")),
            Deleted: await db.AuditEvents.CountAsync(e => e.Action == AuditActions.KeyDeleted && e.Detail!.Contains("Concurrent "))));
        Assert.Equal((Creates, Creates / 2), audit);
        if (factory.Provider == DatabaseProvider.Sqlite)
        {
            // The file database's own checks; PostgreSQL has neither a journal mode nor integrity_check.
            Assert.Equal("ok", await IntegrityCheckAsync(factory));
            Assert.Equal("wal", await factory.WithDbAsync(async db => string.Join(';', await db.Database.SqlQueryRaw<string>("PRAGMA journal_mode").ToListAsync())));
        }
        output.WriteLine($"concurrency: {Creates} creates and {deleted.Count} deletes at once in {elapsed.TotalSeconds:F1} s; " +
            $"{revealed.Count} revealed keys each stored once and working, {deleted.Count} confirmed deletes held, 0 responses ≥ 500, integrity_check ok");

        bool Check(HttpResponseMessage response, HttpStatusCode expected, string what)
        {
            if ((int)response.StatusCode >= 500)
            {
                Interlocked.Increment(ref serverErrors);
            }

            if (response.StatusCode == expected)
            {
                return true;
            }

            failures.Add($"{what}: {(int)response.StatusCode}");
            return false;
        }
    }

    private HttpClient NewBrowser(CookieContainer signedIn)
    {
        var cookies = new CookieContainer();
        cookies.Add(signedIn.GetAllCookies());
        return factory.CreateDefaultClient(new CookieContainerHandler(cookies));
    }

    public static Task<string> IntegrityCheckAsync(PleoKeysFactory factory) =>
        factory.WithDbAsync(async db => string.Join(';', await db.Database.SqlQueryRaw<string>("PRAGMA integrity_check").ToListAsync()));
}
