using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using WebConsole.Infrastructure.Usage;

namespace WebConsole.Infrastructure.Billing;

/// <summary>Registers prices and the usage ledger.</summary>
public static class BillingServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="BillingOptions"/> (section <c>Billing</c>, validated at start), the <see cref="PriceBook"/> and the
    /// <see cref="UsageLedger"/> as the <see cref="IInferenceUsageSink"/> (replacing any sink registered before) and as a
    /// hosted service, so stopping the host writes the records it still holds; and the monthly budgets with their admission gate.
    /// </summary>
    public static IServiceCollection AddWebConsoleBilling(this IServiceCollection services)
    {
        services.AddOptions<BillingOptions>()
            .BindConfiguration(BillingOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<PriceBook>();
        services.TryAddSingleton<UsageLedger>();
        services.Replace(ServiceDescriptor.Singleton<IInferenceUsageSink>(sp => sp.GetRequiredService<UsageLedger>()));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<UsageLedger>());
        services.AddWebConsoleBudgets();
        return services;
    }
}
