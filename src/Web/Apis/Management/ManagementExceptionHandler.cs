using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using WebConsole.Domain;
using WebConsole.Infrastructure.Identity;

namespace WebConsole.Web.Apis.Management;

/// <summary>
/// Maps exceptions of the management API (<c>/api</c>) to ProblemDetails, once for every route: broken domain rules to
/// 400 with the errors, missing resources to 404, conflicts to 409, refused actions to 403. Other surfaces answer in
/// their own shapes, so this handler leaves their exceptions alone.
/// </summary>
internal sealed partial class ManagementExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        // UseExceptionHandler("/error") has already pointed the request at its error page; the feature keeps the path
        // the client asked for.
        var path = httpContext.Features.Get<IExceptionHandlerPathFeature>()?.Path ?? httpContext.Request.Path.Value;
        if (!new PathString(path).StartsWithSegments(ManagementApi.Prefix) || httpContext.Response.HasStarted)
        {
            return false;
        }

        ProblemDetails? problem = exception switch
        {
            DomainValidationException validation => new ValidationProblemDetails(ErrorsByField(validation.Errors))
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "One or more validation errors occurred.",
                Detail = validation.Message,
            },
            BadHttpRequestException badRequest => new ValidationProblemDetails(new Dictionary<string, string[]> { ["request"] = [badRequest.Message] })
            {
                Status = badRequest.StatusCode is >= 400 and < 500 ? badRequest.StatusCode : StatusCodes.Status400BadRequest,
                Title = badRequest.StatusCode == StatusCodes.Status413PayloadTooLarge ? "The request body is too large." : "The request could not be read.",
                Detail = badRequest.Message,
            },
            ResourceNotFoundException notFound => new ProblemDetails { Status = StatusCodes.Status404NotFound, Title = "Not Found", Detail = notFound.Message },
            ResourceConflictException conflict => new ProblemDetails { Status = StatusCodes.Status409Conflict, Title = "Conflict", Detail = conflict.Message },
            ManagementAccessDeniedException denied => new ProblemDetails { Status = StatusCodes.Status403Forbidden, Title = "Forbidden", Detail = denied.Message },
            ApiKeyAccessDeniedException denied => new ProblemDetails { Status = StatusCodes.Status403Forbidden, Title = "Forbidden", Detail = denied.Message },
            _ => null,
        };
        if (problem is null)
        {
            return false;
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    // Domain messages name their field first ("[name] must not be empty"); the field keys the error so a form can show it
    // beside its input.
    private static Dictionary<string, string[]> ErrorsByField(IReadOnlyList<string> errors) =>
        errors
            .GroupBy(e => FieldName().Match(e) is { Success: true } match ? match.Groups[1].Value : "request", StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);

    [GeneratedRegex(@"^\[([a-z_.]+)\]", RegexOptions.CultureInvariant)]
    private static partial Regex FieldName();
}
