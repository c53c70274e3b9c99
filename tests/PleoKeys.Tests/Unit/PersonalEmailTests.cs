using PleoKeys.Web.Auth;

namespace PleoKeys.Tests.Unit;

public sealed class PersonalEmailTests
{
    private static readonly string[] Domains = ["gmail.com", "outlook.com"];

    [Theory]
    [InlineData("nina.nordic@gmail.com")]
    [InlineData("Nina.Nordic@GMAIL.COM")]
    [InlineData("someone@outlook.com")]
    public void IsPersonalEmail_AddressAtAListedDomain_IsTrue(string email)
    {
        Assert.True(CurrentCompany.IsPersonalEmail(email, Domains));
    }

    [Theory]
    [InlineData("admin@nordiccoffee.example")]
    [InlineData("gmail.com@nordiccoffee.example")]
    [InlineData("someone@gmail.com.nordiccoffee.example")]
    [InlineData("someone@mail.gmail.company")]
    [InlineData("no-at-sign")]
    public void IsPersonalEmail_WorkAddress_IsFalse(string email)
    {
        Assert.False(CurrentCompany.IsPersonalEmail(email, Domains));
    }
}
