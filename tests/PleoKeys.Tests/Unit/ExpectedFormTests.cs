using PleoKeys.Web.Api;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Unit;

/// <summary>The words an API 400 uses for the form a field expects, for every kind of field a request type may have.</summary>
public sealed class ExpectedFormTests
{
    [Theory]
    [InlineData(typeof(DateTime?), "an ISO 8601 date-time such as 2026-12-31T00:00:00Z")]
    [InlineData(typeof(DateTimeOffset), "an ISO 8601 date-time such as 2026-12-31T00:00:00Z")]
    [InlineData(typeof(DateOnly), "an ISO 8601 date such as 2026-12-31")]
    [InlineData(typeof(int), "a whole number from -2147483648 to 2147483647")]
    [InlineData(typeof(byte?), "a whole number from 0 to 255")]
    [InlineData(typeof(bool), "true or false")]
    [InlineData(typeof(AccessLevel), "one of Company, Organisation")]
    [InlineData(typeof(string[]), "an array of values, each a string")]
    [InlineData(typeof(List<Guid>), "an array of values, each a UUID such as 0b7e3f2a-5c1d-4e8b-9a6f-2d4c8e1f3a5b")]
    public void ExpectedForm_NamesTheForm(Type type, string expected) => Assert.Equal(expected, ApiBadRequests.ExpectedForm(type));
}
