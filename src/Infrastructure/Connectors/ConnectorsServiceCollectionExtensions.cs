using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WebConsole.Infrastructure.Connectors.OpenAi;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors;

/// <summary>Registers the outbound HTTP core of the connectors and the connector services.</summary>
public static class ConnectorsServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="ProviderHttpClients"/> over the <c>Connectors</c> settings (validated at start: a bad allow-list
    /// entry stops startup naming it) and the third-party services of this layer.
    /// </summary>
    public static IServiceCollection AddWebConsoleConnectors(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<ConnectorOptions>()
            .BindConfiguration(ConnectorOptions.SectionName)
            .Configure<IConfiguration>((options, configuration) =>
            {
                // "Connectors:AllowedOutboundAddresses" may be one comma-separated value (an environment variable).
                if (configuration.GetSection(ConnectorOptions.SectionName).GetSection(nameof(ConnectorOptions.AllowedOutboundAddresses)).Value is { Length: > 0 } single)
                {
                    options.AllowedOutboundAddresses.Add(single);
                }
            })
            .Validate(options => TryParse(options) is null, "Connectors:AllowedOutboundAddresses holds an entry that is neither an address, a CIDR block nor a host name")
            .Validate(options => options.MaxRetries is >= 0 and <= 10, "Connectors:MaxRetries must be between 0 and 10")
            .Validate(options => options.AttemptTimeout > TimeSpan.Zero, "Connectors:AttemptTimeout must be positive")
            .Validate(options => options.BaseUrls.Values.All(IsHttpUrl) && (options.AzureOpenAi.BaseUrl is null || IsHttpUrl(options.AzureOpenAi.BaseUrl)),
                "Connectors:BaseUrls and Connectors:AzureOpenAi:BaseUrl must be absolute http(s) URLs")
            .Validate(options => options.RetryBaseDelay > TimeSpan.Zero && options.MaxRetryDelay >= options.RetryBaseDelay,
                "Connectors:RetryBaseDelay must be positive and at most Connectors:MaxRetryDelay")
            .ValidateOnStart();
        services.TryAddSingleton<ProviderHttpClients>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IInferenceService, Custom.CustomInferenceService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IInferenceService, OpenAiInferenceService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IInferenceService, AzureOpenAiInferenceService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IInferenceService, MistralInferenceService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IInferenceService, GroqInferenceService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IInferenceService, DeepSeekInferenceService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IInferenceService, Cohere.CohereInferenceService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IInferenceService, JinaAi.JinaAiInferenceService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IInferenceService, GoogleAiStudio.GoogleAiStudioInferenceService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IInferenceService, HuggingFace.HuggingFaceInferenceService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IInferenceService, Anthropic.AnthropicInferenceService>());
        return services;
    }

    private static bool IsHttpUrl(Uri url) => url.IsAbsoluteUri && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps);

    private static string? TryParse(ConnectorOptions options)
    {
        try
        {
            options.ParseAllowList();
            return null;
        }
        catch (FormatException ex)
        {
            return ex.Message;
        }
    }
}
