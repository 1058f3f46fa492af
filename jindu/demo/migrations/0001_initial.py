from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="DemoMarker",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seed", models.BigIntegerField(verbose_name="随机种子")),
                ("townships", models.PositiveIntegerField(verbose_name="乡镇数")),
                ("villages", models.PositiveIntegerField(verbose_name="村（社区）数")),
                ("steps", models.JSONField(default=list, verbose_name="已生成的步骤")),
                ("accounts", models.JSONField(default=list, verbose_name="演示账号")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="生成时间")),
            ],
            options={"verbose_name": "演示数据标记"},
        ),
    ]
