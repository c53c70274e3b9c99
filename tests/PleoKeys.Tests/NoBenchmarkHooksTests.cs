using System.Net;
using PleoKeys.Tests.Infrastructure;

namespace PleoKeys.Tests;

/// <summary>
/// The product ships without the benchmark's hooks (issue 13): /bench/* and Server-Timing exist only when
/// bench/run.sh loads bench/PleoKeys.Bench.Hooks as a hosting startup, and the old switch turns nothing on.
/// </summary>
public sealed class NoBenchmarkHooksTests
{
    private sealed class OldSwitchFactory : PleoKeysFactory
    {
        protected override string EnvironmentName => "Production";

        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["PleoKeys:Benchmark:Enabled"] = "true" };
    }

    [Theory]
    [InlineData("/bench/anonymous")]
    [InlineData("/bench/stats")]
    public async Task BenchmarkPaths_WithTheOldSwitchOn_AreNotFound(string path)
    {
        await using var factory = new OldSwitchFactory();

        var response = await factory.NewClient().GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Page_WithTheOldSwitchOn_HasNoServerTiming()
    {
        await using var factory = new OldSwitchFactory();

        var response = await factory.NewClient().GetAsync(new Uri("/Account/Login", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Server-Timing"));
    }
}
