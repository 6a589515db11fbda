using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Options;
using Radzen;
using WebConsole.Domain;
using WebConsole.Domain.Billing;
using WebConsole.Domain.RateLimiting;
using WebConsole.Infrastructure.Audit;
using WebConsole.Infrastructure.Billing;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Apis.Management;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// Operator settings: prices through the same code as <c>POST /api/prices</c> (a new row with its audit entry), the default
/// rate limits as <see cref="RateLimitManagement"/> lists them, and the configured outbound allow-list (read-only: it is
/// configuration, the floor every connector's address guard enforces).
/// </summary>
public sealed partial class Settings
{
    private readonly PriceForm _price = new();
    private CallerIdentity? _caller;
    private string? _error;
    private bool _busy;
    private string _currency = string.Empty;
    private List<PriceRow> _prices = [];
    private List<RateLimitPolicyView> _defaults = [];
    private List<string> _outbound = [];

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject]
    private PriceBook Prices { get; set; } = default!;

    [Inject]
    private IAuditLog Audit { get; set; } = default!;

    [Inject]
    private RateLimitManagement RateLimits { get; set; } = default!;

    [Inject]
    private IOptions<ConnectorOptions> Connectors { get; set; } = default!;

    [Inject]
    private NotificationService Notifications { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _caller = (await AuthenticationState).User.GetCaller();
        _currency = Prices.Currency;
        _outbound = [.. Connectors.Value.AllowedOutboundAddresses
            .SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];
        if (_caller is null)
        {
            _error = "Your session carries no organization; sign in again.";
            return;
        }

        _defaults = [.. (await RateLimits.ListAsync(_caller)).Where(p => p.Scope == RateLimitScope.Global)];
        await LoadPricesAsync();
    }

    private async Task LoadPricesAsync() =>
        _prices = [.. (await Prices.ListAsync(null, CancellationToken.None)).Select(PriceRow.From)];

    private async Task AddPriceAsync(PriceForm form)
    {
        if (_caller is null)
        {
            return;
        }

        _busy = true;
        try
        {
            var price = await PricesApi.SetPriceAsync(
                Prices, Audit, _caller, new SetPriceRequest(form.ModelId?.Trim(), form.InputPerMillion, form.OutputPerMillion, null, null), CancellationToken.None);
            Notifications.Notify(NotificationSeverity.Success, "Price added", $"{price.ModelId} from now on.");
            _error = null;
            form.ModelId = null;
            form.InputPerMillion = null;
            form.OutputPerMillion = null;
            await LoadPricesAsync();
        }
        catch (Exception ex) when (ex is DomainValidationException or ResourceConflictException)
        {
            _error = ex.Message;
        }
        finally
        {
            _busy = false;
        }
    }

    private static void RenderPriceRow(RowRenderEventArgs<PriceRow> row)
    {
        if (row.Data is { } data)
        {
            row.Attributes["data-testid"] = "price-row";
            row.Attributes["data-model-id"] = data.ModelId;
        }
    }

    private static string Limit(long? value) => value is { } limit ? limit.ToString("N0", CultureInfo.InvariantCulture) : "unlimited";

    internal sealed class PriceForm
    {
        public string? ModelId { get; set; }

        public decimal? InputPerMillion { get; set; }

        public decimal? OutputPerMillion { get; set; }
    }

    internal sealed record PriceRow(string ModelId, string Input, string Output, string Currency, string EffectiveFrom)
    {
        public static PriceRow From(ModelPrice price) => new(
            price.ModelId,
            BudgetService.Amount(price.InputPerMillion),
            BudgetService.Amount(price.OutputPerMillion),
            price.Currency,
            price.EffectiveFrom.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture));
    }
}
