using PleoKeys.Web.Pages.Settings.ApiKeys;

namespace PleoKeys.Tests.Unit;

public sealed class KeyStatusTests
{
    private static readonly DateTime Now = new(2026, 11, 26, 9, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData(-3650.0, "Expired")]
    [InlineData(-0.0001, "Expired")]
    [InlineData(0.0, "Expired")]       // the end instant itself: the key no longer works
    [InlineData(0.0001, "Expires soon")]
    [InlineData(3.0, "Expires soon")]
    [InlineData(6.99, "Expires soon")]
    [InlineData(7.01, "Active")]
    [InlineData(30.0, "Active")]
    [InlineData(365.0, "Active")]
    public void Of_DaysUntilExpiry_GivesTheStatus(double daysLeft, string expected)
    {
        Assert.Equal(expected, KeyStatus.Of(Now.AddDays(daysLeft), Now).Text);
    }
}
