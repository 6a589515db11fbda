// Written by hand (EF Core design-time tools are not available here). The model snapshot beside it must
// describe the same schema; tests check both against the model and against a real database.
#pragma warning disable CA1861 // migration operations take literal column arrays, as EF-generated migrations do
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Sqlite.Migrations;

/// <summary>The first schema: tenancy, API keys, inference endpoints, catalog, rate limits, prices and usage.</summary>
[DbContext(typeof(WebConsoleDbContext))]
[Migration("20261121000000_Initial")]
public sealed class Initial : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "Organizations",
            columns: table => new
            {
                Id = table.Column<Guid>(type: "TEXT", nullable: false),
                CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                Slug = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_Organizations", x => x.Id);
            });

        migrationBuilder.CreateTable(
            name: "Users",
            columns: table => new
            {
                Id = table.Column<Guid>(type: "TEXT", nullable: false),
                CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                DisplayName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                Email = table.Column<string>(type: "TEXT", maxLength: 254, nullable: false),
                IsPlatformOperator = table.Column<bool>(type: "INTEGER", nullable: false),
                PasswordHash = table.Column<string>(type: "TEXT", maxLength: 512, nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_Users", x => x.Id);
            });

        migrationBuilder.CreateTable(
            name: "CatalogModels",
            columns: table => new
            {
                Id = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                Author = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                DataRetention = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                EolDate = table.Column<DateOnly>(type: "TEXT", nullable: true),
                InferenceRegions = table.Column<string>(type: "TEXT", nullable: false),
                InputModalities = table.Column<string>(type: "TEXT", nullable: false),
                ModelCard = table.Column<string>(type: "TEXT", nullable: false),
                Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                OutputModalities = table.Column<string>(type: "TEXT", nullable: false),
                ProviderTerms = table.Column<string>(type: "TEXT", nullable: false),
                ReleaseStatus = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                StackVersion = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                TaskType = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                UsedForTraining = table.Column<bool>(type: "INTEGER", nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_CatalogModels", x => x.Id);
            });

        migrationBuilder.CreateTable(
            name: "ModelPrices",
            columns: table => new
            {
                Id = table.Column<Guid>(type: "TEXT", nullable: false),
                Currency = table.Column<string>(type: "TEXT", maxLength: 3, nullable: false),
                EffectiveFrom = table.Column<long>(type: "INTEGER", nullable: false),
                InputPerMillion = table.Column<decimal>(type: "TEXT", precision: 19, scale: 9, nullable: false),
                ModelId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                OutputPerMillion = table.Column<decimal>(type: "TEXT", precision: 19, scale: 9, nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_ModelPrices", x => x.Id);
            });

        migrationBuilder.CreateTable(
            name: "RateLimitPolicies",
            columns: table => new
            {
                Id = table.Column<Guid>(type: "TEXT", nullable: false),
                IngestTokensPerMinute = table.Column<long>(type: "INTEGER", nullable: true),
                ModelSelector = table.Column<string>(type: "TEXT", maxLength: 160, nullable: false),
                RequestsPerMinute = table.Column<int>(type: "INTEGER", nullable: true),
                Scope = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                ScopeId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                SearchTokensPerMinute = table.Column<long>(type: "INTEGER", nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_RateLimitPolicies", x => x.Id);
            });

        migrationBuilder.CreateTable(
            name: "UsageRecords",
            columns: table => new
            {
                Id = table.Column<Guid>(type: "TEXT", nullable: false),
                ApiKeyId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                BillingDimension = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                Cost = table.Column<long>(type: "INTEGER", nullable: false),
                Currency = table.Column<string>(type: "TEXT", maxLength: 3, nullable: false),
                InferenceId = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                InputTokens = table.Column<long>(type: "INTEGER", nullable: false),
                ModelId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                OccurredAt = table.Column<long>(type: "INTEGER", nullable: false),
                OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                Outcome = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                OutputTokens = table.Column<long>(type: "INTEGER", nullable: false),
                RequestId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                Surface = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                TaskType = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                TeamId = table.Column<Guid>(type: "TEXT", nullable: false),
                UserId = table.Column<Guid>(type: "TEXT", nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_UsageRecords", x => x.Id);
            });

        migrationBuilder.CreateTable(
            name: "InferenceEndpoints",
            columns: table => new
            {
                Id = table.Column<Guid>(type: "TEXT", nullable: false),
                ChunkingSettings = table.Column<string>(type: "TEXT", nullable: true),
                CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                InferenceId = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                IsReserved = table.Column<bool>(type: "INTEGER", nullable: false),
                OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                SecretSettings = table.Column<string>(type: "TEXT", nullable: true),
                Service = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                ServiceSettings = table.Column<string>(type: "TEXT", nullable: false),
                TaskSettings = table.Column<string>(type: "TEXT", nullable: false),
                TaskType = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_InferenceEndpoints", x => x.Id);
                table.ForeignKey(
                    name: "FK_InferenceEndpoints_Organizations_OrganizationId",
                    column: x => x.OrganizationId,
                    principalTable: "Organizations",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateTable(
            name: "OrganizationMemberships",
            columns: table => new
            {
                OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                UserId = table.Column<Guid>(type: "TEXT", nullable: false),
                CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                Role = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_OrganizationMemberships", x => new { x.OrganizationId, x.UserId });
                table.ForeignKey(
                    name: "FK_OrganizationMemberships_Organizations_OrganizationId",
                    column: x => x.OrganizationId,
                    principalTable: "Organizations",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
                table.ForeignKey(
                    name: "FK_OrganizationMemberships_Users_UserId",
                    column: x => x.UserId,
                    principalTable: "Users",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateTable(
            name: "Teams",
            columns: table => new
            {
                Id = table.Column<Guid>(type: "TEXT", nullable: false),
                CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_Teams", x => x.Id);
                table.ForeignKey(
                    name: "FK_Teams_Organizations_OrganizationId",
                    column: x => x.OrganizationId,
                    principalTable: "Organizations",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateTable(
            name: "ApiKeys",
            columns: table => new
            {
                Id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                AllowedEndpoints = table.Column<string>(type: "TEXT", nullable: false),
                CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                ExpiresAt = table.Column<long>(type: "INTEGER", nullable: true),
                InvalidatedAt = table.Column<long>(type: "INTEGER", nullable: true),
                Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                Role = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                SecretHash = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                TeamId = table.Column<Guid>(type: "TEXT", nullable: false),
                UserId = table.Column<Guid>(type: "TEXT", nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_ApiKeys", x => x.Id);
                table.ForeignKey(
                    name: "FK_ApiKeys_Teams_TeamId",
                    column: x => x.TeamId,
                    principalTable: "Teams",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
                table.ForeignKey(
                    name: "FK_ApiKeys_Users_UserId",
                    column: x => x.UserId,
                    principalTable: "Users",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateTable(
            name: "TeamMemberships",
            columns: table => new
            {
                TeamId = table.Column<Guid>(type: "TEXT", nullable: false),
                UserId = table.Column<Guid>(type: "TEXT", nullable: false),
                CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                Role = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_TeamMemberships", x => new { x.TeamId, x.UserId });
                table.ForeignKey(
                    name: "FK_TeamMemberships_Teams_TeamId",
                    column: x => x.TeamId,
                    principalTable: "Teams",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
                table.ForeignKey(
                    name: "FK_TeamMemberships_Users_UserId",
                    column: x => x.UserId,
                    principalTable: "Users",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateIndex(
            name: "IX_Organizations_Slug",
            table: "Organizations",
            column: "Slug",
            unique: true);

        migrationBuilder.CreateIndex(
            name: "IX_Users_Email",
            table: "Users",
            column: "Email",
            unique: true);

        migrationBuilder.CreateIndex(
            name: "IX_ModelPrices_ModelId_Currency_EffectiveFrom",
            table: "ModelPrices",
            columns: new[] { "ModelId", "Currency", "EffectiveFrom" },
            unique: true);

        migrationBuilder.CreateIndex(
            name: "IX_RateLimitPolicies_Scope_ScopeId",
            table: "RateLimitPolicies",
            columns: new[] { "Scope", "ScopeId" });

        migrationBuilder.CreateIndex(
            name: "IX_UsageRecords_OrganizationId_OccurredAt",
            table: "UsageRecords",
            columns: new[] { "OrganizationId", "OccurredAt" });

        migrationBuilder.CreateIndex(
            name: "IX_UsageRecords_RequestId",
            table: "UsageRecords",
            column: "RequestId",
            unique: true);

        migrationBuilder.CreateIndex(
            name: "IX_UsageRecords_TeamId_OccurredAt",
            table: "UsageRecords",
            columns: new[] { "TeamId", "OccurredAt" });

        migrationBuilder.CreateIndex(
            name: "IX_InferenceEndpoints_OrganizationId_InferenceId",
            table: "InferenceEndpoints",
            columns: new[] { "OrganizationId", "InferenceId" },
            unique: true);

        migrationBuilder.CreateIndex(
            name: "IX_OrganizationMemberships_UserId",
            table: "OrganizationMemberships",
            column: "UserId");

        migrationBuilder.CreateIndex(
            name: "IX_Teams_OrganizationId_Name",
            table: "Teams",
            columns: new[] { "OrganizationId", "Name" },
            unique: true);

        migrationBuilder.CreateIndex(
            name: "IX_ApiKeys_TeamId",
            table: "ApiKeys",
            column: "TeamId");

        migrationBuilder.CreateIndex(
            name: "IX_ApiKeys_UserId",
            table: "ApiKeys",
            column: "UserId");

        migrationBuilder.CreateIndex(
            name: "IX_TeamMemberships_UserId",
            table: "TeamMemberships",
            column: "UserId");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(name: "TeamMemberships");

        migrationBuilder.DropTable(name: "ApiKeys");

        migrationBuilder.DropTable(name: "Teams");

        migrationBuilder.DropTable(name: "OrganizationMemberships");

        migrationBuilder.DropTable(name: "InferenceEndpoints");

        migrationBuilder.DropTable(name: "UsageRecords");

        migrationBuilder.DropTable(name: "RateLimitPolicies");

        migrationBuilder.DropTable(name: "ModelPrices");

        migrationBuilder.DropTable(name: "CatalogModels");

        migrationBuilder.DropTable(name: "Users");

        migrationBuilder.DropTable(name: "Organizations");
    }
}
