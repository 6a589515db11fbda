using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using WebConsole.Domain;
using WebConsole.Domain.Billing;
using WebConsole.Infrastructure.Audit;
using WebConsole.Infrastructure.Billing;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis.Management;

/// <summary>
/// <c>/api/prices</c>: the operator's prices per model per million tokens. A price is never edited: setting one adds a
/// row that applies from its <c>effective_from</c> on, so requests already billed keep their cost.
/// </summary>
internal static class PricesApi
{
    public static RouteGroupBuilder MapPricesApi(this RouteGroupBuilder api)
    {
        api.MapGet("/prices", ListAsync).RequireAuthorization(Policies.MonitorInference);
        api.MapPost("/prices", SetAsync).Accepts<SetPriceRequest>("application/json").RequireAuthorization(Policies.PlatformOperator);
        return api;
    }

    private static async Task<Ok<PriceResponse[]>> ListAsync(HttpContext context, PriceBook prices, string? model_id) =>
        TypedResults.Ok((await prices.ListAsync(model_id, context.RequestAborted)).Select(PriceResponse.From).ToArray());

    private static async Task<Created<PriceResponse>> SetAsync(HttpContext context, PriceBook prices, IAuditLog audit)
    {
        var request = await ManagementApi.ReadBodyAsync<SetPriceRequest>(context);
        var price = await SetPriceAsync(prices, audit, ManagementApi.Caller(context), request, context.RequestAborted);
        return TypedResults.Created($"{ManagementApi.Prefix}/prices?model_id={Uri.EscapeDataString(price.ModelId)}", PriceResponse.From(price));
    }

    /// <summary>Adds a price and its audit row: what <c>POST /api/prices</c> and the portal's settings page both do.</summary>
    internal static async Task<ModelPrice> SetPriceAsync(PriceBook prices, IAuditLog audit, CallerIdentity caller, SetPriceRequest request, CancellationToken ct)
    {
        if (request.InputPerMillion is null || request.OutputPerMillion is null)
        {
            throw new DomainValidationException(request.InputPerMillion is null
                ? "[input_per_million] is required" : "[output_per_million] is required");
        }

        ModelPrice price;
        try
        {
            price = await prices.SetAsync(
                request.ModelId, request.InputPerMillion.Value, request.OutputPerMillion.Value, request.Currency, request.EffectiveFrom, ct);
        }
        catch (PriceConflictException ex)
        {
            throw new ResourceConflictException(ex.Message);
        }

        await audit.RecordAsync(caller, "price.set", "model_price", price.Id.ToString(), string.Create(CultureInfo.InvariantCulture,
            $"{price.ModelId}: input {price.InputPerMillion} / output {price.OutputPerMillion} {price.Currency} per million from {price.EffectiveFrom:O}"),
            ct);
        return price;
    }
}

/// <summary><c>POST /api/prices</c>: a model's price per million tokens from a time on (default now).</summary>
public sealed record SetPriceRequest(
    [property: JsonPropertyName("model_id")] string? ModelId,
    [property: JsonPropertyName("input_per_million")] decimal? InputPerMillion,
    [property: JsonPropertyName("output_per_million")] decimal? OutputPerMillion,
    [property: JsonPropertyName("currency")] string? Currency,
    [property: JsonPropertyName("effective_from")] DateTimeOffset? EffectiveFrom);

/// <summary>One stored price.</summary>
public sealed record PriceResponse(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("model_id")] string ModelId,
    [property: JsonPropertyName("input_per_million")] decimal InputPerMillion,
    [property: JsonPropertyName("output_per_million")] decimal OutputPerMillion,
    [property: JsonPropertyName("currency")] string Currency,
    [property: JsonPropertyName("effective_from")] DateTimeOffset EffectiveFrom)
{
    public static PriceResponse From(ModelPrice price) =>
        new(price.Id, price.ModelId, price.InputPerMillion, price.OutputPerMillion, price.Currency, price.EffectiveFrom);
}
