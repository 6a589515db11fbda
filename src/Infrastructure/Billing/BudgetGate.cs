using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WebConsole.Infrastructure.Admission;

namespace WebConsole.Infrastructure.Billing;

/// <summary>
/// The admission gate of monthly budgets: after the rate limits (a request they refuse reserves nothing here), it
/// reserves the request's estimated cost on its team's and key's budgets or refuses it with a 402.
/// </summary>
public sealed class BudgetGate(BudgetService budgets) : IAdmissionGate
{
    /// <summary>Rate limits run at 100; budgets after them.</summary>
    public const int GateOrder = 200;

    /// <inheritdoc />
    public int Order => GateOrder;

    /// <inheritdoc />
    public ValueTask<AdmissionPass> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken) =>
        budgets.ReserveAsync(request, cancellationToken);
}

/// <summary>Registers budgets.</summary>
public static class BudgetServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="BudgetOptions"/> (section <c>Billing:Budgets</c>, validated at start), the <see cref="BudgetService"/>
    /// and the <see cref="BudgetGate"/> among the admission gates. Needs the <see cref="PriceBook"/> (<c>AddWebConsoleBilling</c>).
    /// </summary>
    public static IServiceCollection AddWebConsoleBudgets(this IServiceCollection services)
    {
        services.AddOptions<BudgetOptions>()
            .BindConfiguration(BudgetOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<BudgetService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAdmissionGate, BudgetGate>());
        return services;
    }
}
