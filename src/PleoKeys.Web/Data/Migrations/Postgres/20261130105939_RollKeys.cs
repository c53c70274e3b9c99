using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PleoKeys.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class RollKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "ReplacedByKeyId",
                table: "ApiKeys",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "RolledAtUtc",
                table: "ApiKeys",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "SecretEndAuditedAtUtc",
                table: "ApiKeys",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "SecretStopsAtUtc",
                table: "ApiKeys",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_ReplacedByKeyId",
                table: "ApiKeys",
                column: "ReplacedByKeyId");

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_RolledAtUtc",
                table: "ApiKeys",
                column: "RolledAtUtc");

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_SecretEndAuditedAtUtc_SecretStopsAtUtc",
                table: "ApiKeys",
                columns: new[] { "SecretEndAuditedAtUtc", "SecretStopsAtUtc" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ApiKeys_ReplacedByKeyId",
                table: "ApiKeys");

            migrationBuilder.DropIndex(
                name: "IX_ApiKeys_RolledAtUtc",
                table: "ApiKeys");

            migrationBuilder.DropIndex(
                name: "IX_ApiKeys_SecretEndAuditedAtUtc_SecretStopsAtUtc",
                table: "ApiKeys");

            migrationBuilder.DropColumn(
                name: "ReplacedByKeyId",
                table: "ApiKeys");

            migrationBuilder.DropColumn(
                name: "RolledAtUtc",
                table: "ApiKeys");

            migrationBuilder.DropColumn(
                name: "SecretEndAuditedAtUtc",
                table: "ApiKeys");

            migrationBuilder.DropColumn(
                name: "SecretStopsAtUtc",
                table: "ApiKeys");
        }
    }
}
