using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PleoKeys.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class FoldedKeyNames : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<string>(
                name: "NormalizedName",
                table: "ApiKeys",
                type: "text",
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(100)",
                oldMaxLength: 100);
            // The search form is now Unicode full case folding, which SQL cannot compute the same way on both
            // providers: emptied here, filled in at start-up (DatabaseSetup.FillFoldedNamesAsync).
            migrationBuilder.Sql("UPDATE \"ApiKeys\" SET \"NormalizedName\" = '';");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Back to the earlier upper-cased form (PostgreSQL's upper() is Unicode-aware).
            migrationBuilder.Sql("UPDATE \"ApiKeys\" SET \"NormalizedName\" = upper(\"Name\");");
            migrationBuilder.AlterColumn<string>(
                name: "NormalizedName",
                table: "ApiKeys",
                type: "character varying(100)",
                maxLength: 100,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "text");
        }
    }
}
