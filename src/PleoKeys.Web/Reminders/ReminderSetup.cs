using Microsoft.Extensions.Options;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Web.Reminders;

public static class ReminderSetup
{
    /// <summary>
    /// Email (<c>Email:*</c>, validated at start) and the expiry reminders' background scan. Without
    /// <c>Email:Smtp:Host</c>, emails are written to <c>Email:PickupDirectory</c>.
    /// </summary>
    public static IServiceCollection AddExpiryReminders(this IServiceCollection services)
    {
        services.AddOptions<EmailOptions>().BindConfiguration(EmailOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EmailOptions>, EmailOptionsValidator>();
        services.AddSingleton<IMailSender>(sp =>
            string.IsNullOrWhiteSpace(sp.GetRequiredService<IOptions<EmailOptions>>().Value.Smtp.Host)
                ? ActivatorUtilities.CreateInstance<PickupFolderMailSender>(sp)
                : ActivatorUtilities.CreateInstance<SmtpMailSender>(sp));
        services.AddSingleton<ExpiryReminders>();
        services.AddHostedService<ExpiryReminderService>();
        return services;
    }
}
