// Written by `makemigrations`: the migration files that `turbine_orm::migrations!` embeds.
[
    ("0001_initial.json", include_str!("0001_initial.json")),
    ("0002_chirp_post_body_trgm.json", include_str!("0002_chirp_post_body_trgm.json")),
]
