// Written by `makemigrations`: the migration files that `turbine_orm::migrations!` embeds.
[
    ("0001_initial.json", include_str!("0001_initial.json")),
]
