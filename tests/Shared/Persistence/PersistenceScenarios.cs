using System.Collections;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Operations;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Audit;
using WebConsole.Domain.Billing;
using WebConsole.Domain.Catalog;
using WebConsole.Domain.Chunking;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.Playground;
using WebConsole.Domain.RateLimiting;
using WebConsole.Domain.Tenancy;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.Catalog;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Tests.Shared.Persistence;

/// <summary>
/// Checks every provider runs against a real database: each entity written and read back through a new context.
/// Compiled into both test projects: tests/Unit runs them on SQLite, tests/E2E on PostgreSQL.
/// </summary>
internal static class PersistenceScenarios
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 9, 30, 15, 123, TimeSpan.Zero);

    public static async Task EveryEntityRoundTripsAsync(Func<WebConsoleDbContext> newContext)
    {
        var organization = Organization.Create(Guid.NewGuid(), "Acme", "acme", T0);
        var user = User.Create(Guid.NewGuid(), "Ada@Example.com", "Ada", "hash$v1", true, T0.AddMinutes(1));
        var team = Team.Create(Guid.NewGuid(), organization.Id, "Search", T0);
        var orgMember = OrganizationMembership.Create(organization.Id, user.Id, OrganizationRole.OrganizationAdmin, T0);
        var teamMember = TeamMembership.Create(team.Id, user.Id, TeamRole.TeamAdmin, T0);
        user.SetPasswordHash("one-time$v1", mustChange: true);
        var key = ApiKey.Create("k_123", "ci", organization.Id, team.Id, user.Id, "secret-hash", ApiKeyRole.InferenceAdmin, T0.AddDays(30), ["my-e5", "rerank-1"], T0);
        key.Invalidate(T0.AddDays(1));
        var endpoint = InferenceEndpoint.Create(Guid.NewGuid(), organization.Id, InferenceId.Parse("my-e5"), TaskType.TextEmbedding, "openai",
            """{"model_id":"text-embedding-3-small","dimensions":256}""", "enc:v1:abcdef", """{"user":"u1"}""",
            ChunkingSettings.Recursive(120, ["\n\n", "\\.\\s"]), T0);
        endpoint.UpdateChunkingSettings(ChunkingSettings.Recursive(120, SeparatorGroup.Markdown), T0.AddHours(1));
        var wordEndpoint = InferenceEndpoint.Create(Guid.NewGuid(), organization.Id, InferenceId.Parse("words"), TaskType.SparseEmbedding, "elasticsearch",
            "{}", null, null, ChunkingSettings.Word(10, 1), T0);
        var chat = InferenceEndpoint.CreateReserved(Guid.NewGuid(), organization.Id, InferenceId.Parse(".chat-elastic"), TaskType.ChatCompletion, "elastic",
            """{"model_id":".demo-chat"}""", null, null, T0);
        var catalogModel = CatalogDocument.LoadEmbedded().Models.Single(m => m.Id == "anthropic-claude-4.5-opus");
        var backend = CatalogBackend.Upstream(catalogModel.Id, "openai", """{"model_id":"gpt-4.1"}""", "enc:v1:abcdef", """{"user":"u1"}""", T0);
        var policy = RateLimitPolicy.Create(Guid.NewGuid(), RateLimitScope.Team, team.Id.ToString(), ModelSelector.ForFamily(TaskType.Rerank), RateLimit.Create(600, null, 6_000_000));
        var price = ModelPrice.Create(Guid.NewGuid(), Price.Create("openai-gpt-4.1", 2.000000001m, 8.5m, "USD", T0));
        var audit = AuditEntry.Create(Guid.NewGuid(), organization.Id, user.Id, "k_123", "ada@example.com", "api_key.create", "api_key", "k_123",
            """{"role":"inference_admin"}""", "2001:db8::1", "curl/8.5", T0.AddMinutes(2));
        var systemAudit = AuditEntry.Create(Guid.NewGuid(), organization.Id, null, null, "system", "organization.create", "organization",
            organization.Id.ToString(), null, null, null, T0);
        var conversation = Conversation.Create(organization.Id, user.Id, "my-e5", "A chat about the sea",
            """{"systemPrompt":"Be brief","messages":[{"role":"user","content":"Hi"}]}""", T0.AddMinutes(4));
        var usage = new[]
        {
            Usage("r-3", organization, team, T0.AddMinutes(3), 0.000000021m),
            Usage("r-1", organization, team, T0.AddMinutes(-10).ToOffset(TimeSpan.FromHours(5)), 1.5m),
            Usage("r-2", organization, team, T0.AddSeconds(1), 12345.123456789m),
        };

        await using (var write = newContext())
        {
            write.AddRange(organization, user);
            write.AddRange(team, orgMember, key, endpoint, wordEndpoint, chat, catalogModel, backend, policy, price);
            write.Add(teamMember);
            write.AddRange(audit, systemAudit);
            write.Add(conversation);
            write.AddRange(usage);
            await write.SaveChangesAsync();
        }

        await using var read = newContext();
        AssertSameState(organization, await read.Organizations.SingleAsync());
        AssertSameState(user, await read.Users.SingleAsync(u => u.Email == "ada@example.com"));
        AssertSameState(team, await read.Teams.SingleAsync());
        AssertSameState(orgMember, await read.OrganizationMemberships.SingleAsync());
        AssertSameState(teamMember, await read.TeamMemberships.SingleAsync());
        AssertSameState(key, await read.ApiKeys.SingleAsync());
        AssertSameState(audit, await read.AuditEntries.SingleAsync(a => a.Id == audit.Id));
        AssertSameState(systemAudit, await read.AuditEntries.SingleAsync(a => a.ActorUserId == null));
        Assert.Equal([audit.Id, systemAudit.Id], await read.AuditEntries.Where(a => a.OrganizationId == organization.Id)
            .OrderByDescending(a => a.OccurredAt).Select(a => a.Id).ToListAsync());
        AssertSameState(endpoint, await read.InferenceEndpoints.SingleAsync(e => e.InferenceId == InferenceId.Parse("my-e5")));
        AssertSameState(wordEndpoint, await read.InferenceEndpoints.SingleAsync(e => e.Id == wordEndpoint.Id));
        AssertSameState(chat, await read.InferenceEndpoints.SingleAsync(e => e.IsReserved));
        AssertSameState(catalogModel, await read.CatalogModels.SingleAsync());
        AssertSameState(backend, await read.CatalogBackends.SingleAsync());
        AssertSameState(policy, await read.RateLimitPolicies.SingleAsync());
        AssertSameState(price, await read.ModelPrices.SingleAsync());
        AssertSameState(conversation, await read.Conversations.SingleAsync(c => c.InferenceId == "my-e5"));
        foreach (var record in usage)
        {
            AssertSameState(record, await read.UsageRecords.SingleAsync(u => u.RequestId == record.RequestId));
        }

        // Comparison, ordering and sums run in SQL on every provider.
        var ordered = await read.UsageRecords.Where(u => u.OccurredAt > T0.AddMinutes(-5)).OrderBy(u => u.OccurredAt).Select(u => u.RequestId).ToListAsync();
        Assert.Equal(["r-2", "r-3"], ordered);
        var latest = await read.UsageRecords.OrderByDescending(u => u.OccurredAt).Select(u => u.RequestId).FirstAsync();
        Assert.Equal("r-3", latest);
        var total = await read.UsageRecords.Where(u => u.OrganizationId == organization.Id).SumAsync(u => u.Cost);
        Assert.Equal(0.000000021m + 1.5m + 12345.123456789m, total);
        Assert.Equal(1, await read.ApiKeys.CountAsync(k => k.ExpiresAt > T0.AddDays(29)));
        Assert.Equal(1, await read.CatalogModels.CountAsync(m => m.EolDate < new DateOnly(2027, 1, 1)));
    }

    public static async Task Usage_request_ids_are_unique(Func<WebConsoleDbContext> newContext)
    {
        var organization = Organization.Create(Guid.NewGuid(), "Unique", "unique-" + Guid.NewGuid().ToString("N")[..8], T0);
        var team = Team.Create(Guid.NewGuid(), organization.Id, "T", T0);
        await using (var first = newContext())
        {
            first.Add(Usage("dup", organization, team, T0, 1m));
            await first.SaveChangesAsync();
        }

        await using var second = newContext();
        second.Add(Usage("dup", organization, team, T0, 1m));
        await Assert.ThrowsAsync<DbUpdateException>(() => second.SaveChangesAsync());
    }

    public static async Task CatalogSeedingIsIdempotentAsync(Func<WebConsoleDbContext> newContext)
    {
        await using (var first = newContext())
        {
            Assert.True(await CatalogSeeder.SeedAsync(first) > 0);
        }

        await using (var check = newContext())
        {
            Assert.Equal(27, await check.CatalogModels.CountAsync());
            var policies = await check.RateLimitPolicies.ToListAsync();
            // The catalog's seven reference rows, plus the family defaults they imply for the families without a row.
            Assert.Equal(11, policies.Count);
            Assert.All(policies, p => Assert.Equal(RateLimitScope.Global, p.Scope));
            var llms = Assert.Single(policies, p => p.ModelSelector == ModelSelector.ForFamily(TaskType.ChatCompletion));
            Assert.Equal(RateLimit.Create(2000, null, null), llms.Limit);
            var elser = Assert.Single(policies, p => p.ModelSelector == ModelSelector.ForModel("elser_model_2"));
            Assert.Equal(RateLimit.Create(6000, 6_000_000, 600_000), elser.Limit);
            Assert.Equal(RateLimit.Create(6000, 6_000_000, 600_000), Assert.Single(policies, p => p.ModelSelector == ModelSelector.ForFamily(TaskType.SparseEmbedding)).Limit);
            Assert.Equal(RateLimit.Create(6000, 6_000_000, 600_000), Assert.Single(policies, p => p.ModelSelector == ModelSelector.ForFamily(TaskType.TextEmbedding)).Limit);
            Assert.Equal(RateLimit.Create(600, null, 6_000_000), Assert.Single(policies, p => p.ModelSelector == ModelSelector.ForFamily(TaskType.Rerank)).Limit);
            Assert.Equal(RateLimit.Create(2000, null, null), Assert.Single(policies, p => p.ModelSelector == ModelSelector.ForFamily(TaskType.Completion)).Limit);
            var legacy = await check.CatalogModels.SingleAsync(m => m.Id == "anthropic-claude-3.7-sonnet");
            Assert.Equal(ReleaseStatus.LegacyEolSoon, legacy.ReleaseStatus);
            Assert.Equal(new DateOnly(2026, 4, 28), legacy.EolDate);
        }

        await using (var again = newContext())
        {
            Assert.Equal(0, await CatalogSeeder.SeedAsync(again));
        }

        // A row changed in the database is brought back to the catalog's values by the next start.
        await using (var drift = newContext())
        {
            var model = await drift.CatalogModels.SingleAsync(m => m.Id == "jina-reranker-v3");
            model.Update("Someone", "Renamed", TaskType.Rerank, model.ModelCard, model.ProviderTerms, model.InputModalities, model.OutputModalities,
                new DateOnly(2000, 1, 1), model.DataRetention, true, ["EU"], ReleaseStatus.Preview, "1.0");
            await drift.SaveChangesAsync();
        }

        await using (var repair = newContext())
        {
            Assert.Equal(1, await CatalogSeeder.SeedAsync(repair));
        }

        await using var final = newContext();
        var restored = await final.CatalogModels.SingleAsync(m => m.Id == "jina-reranker-v3");
        AssertSameState(CatalogDocument.LoadEmbedded().Models.Single(m => m.Id == "jina-reranker-v3"), restored);
    }

    /// <summary>
    /// The hand-written migrations create exactly the schema EF would create from the model (tables, columns with
    /// types and nullability, keys, foreign keys, indexes).
    /// </summary>
    public static void MigrationsCreateTheModelsSchema(DbContext context)
    {
        var differ = context.GetService<IMigrationsModelDiffer>();
        var model = context.GetService<IDesignTimeModel>().Model.GetRelationalModel();
        var expected = Describe(differ.GetDifferences(null, model));

        var assembly = context.GetService<IMigrationsAssembly>();
        var actual = Describe(assembly.Migrations.Values
            .Select(type => assembly.CreateMigration(type, context.Database.ProviderName!))
            .SelectMany(migration => migration.UpOperations));

        Assert.Equal(expected, actual);
    }

    // Applies the operations in order to a description of the schema, so later migrations that add columns or recreate
    // tables describe the same end state as the model's single set of CreateTable operations.
    private static string[] Describe(IEnumerable<MigrationOperation> operations)
    {
        var tables = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var other = new List<string>();
        List<string> Table(string name) => tables.TryGetValue(name, out var lines) ? lines : tables[name] = [];
        static string Column(string table, string name, string? type, Type clr, bool nullable, int? max, int? precision, int? scale) =>
            $"column {table}.{name} {type} {clr.Name} null={nullable} max={max} p={precision} s={scale}";
        static string ForeignKey(AddForeignKeyOperation f) =>
            $"fk {f.Name} {f.Table}({string.Join(",", f.Columns)}) -> {f.PrincipalTable}({string.Join(",", f.PrincipalColumns!)}) {f.OnDelete}";
        foreach (var operation in operations)
        {
            switch (operation)
            {
                case CreateTableOperation table:
                    var lines = Table(table.Name);
                    lines.AddRange(table.Columns.Select(c => Column(table.Name, c.Name, c.ColumnType, c.ClrType, c.IsNullable, c.MaxLength, c.Precision, c.Scale)));
                    lines.Add($"pk {table.Name} {table.PrimaryKey!.Name} ({string.Join(",", table.PrimaryKey.Columns)})");
                    lines.AddRange(table.ForeignKeys.Select(ForeignKey));
                    lines.AddRange(table.UniqueConstraints.Select(u => $"unique {u.Name}"));
                    break;
                case DropTableOperation drop:
                    tables.Remove(drop.Name);
                    break;
                case AddColumnOperation c:
                    Table(c.Table).Add(Column(c.Table, c.Name, c.ColumnType, c.ClrType, c.IsNullable, c.MaxLength, c.Precision, c.Scale));
                    break;
                case AddForeignKeyOperation f:
                    Table(f.Table).Add(ForeignKey(f));
                    break;
                case CreateIndexOperation index:
                    Table(index.Table).Add($"index {index.Name} {index.Table}({string.Join(",", index.Columns)}) unique={index.IsUnique} filter={index.Filter}");
                    break;
                default:
                    other.Add(operation.GetType().Name);
                    break;
            }
        }

        return tables.Values.SelectMany(l => l).Concat(other).Order(StringComparer.Ordinal).ToArray();
    }

    private static UsageRecord Usage(string requestId, Organization organization, Team team, DateTimeOffset at, decimal cost) =>
        UsageRecord.Create(Guid.NewGuid(), requestId, organization.Id, team.Id, "k_123", null, "my-e5", "openai-gpt-4.1",
            TaskType.ChatCompletion, Surface.OpenAI, 1200, 340, cost, "USD", UsageOutcome.Succeeded, at);

    /// <summary>Every public property equal (lists element by element).</summary>
    public static void AssertSameState<T>(T expected, T actual)
        where T : class
    {
        Assert.NotSame(expected, actual);
        foreach (var property in typeof(T).GetProperties().Where(p => p.GetIndexParameters().Length == 0))
        {
            var want = property.GetValue(expected);
            var got = property.GetValue(actual);
            if (want is IEnumerable wantItems and not string && got is IEnumerable gotItems)
            {
                Assert.True(wantItems.Cast<object>().SequenceEqual(gotItems.Cast<object>()), $"{typeof(T).Name}.{property.Name} differs");
            }
            else
            {
                Assert.True(Equals(want, got), $"{typeof(T).Name}.{property.Name}: expected [{want}], got [{got}]");
            }
        }
    }
}
