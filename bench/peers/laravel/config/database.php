<?php
return [
    'default' => 'pgsql',
    'connections' => [
        'pgsql' => [
            'driver' => 'pgsql',
            // The same database as every other entry: BENCH_DATABASE_URL (php-fpm's pool passes it).
            'url' => env('BENCH_DATABASE_URL'),
            'charset' => 'utf8',
            'prefix' => '',
            'schema' => 'public',
            'sslmode' => 'disable',
            // Persistent PDO connections (one per php-fpm worker), as TechEmpower's Laravel entry
            // does: without them every request forks a new Postgres backend.
            'options' => [PDO::ATTR_PERSISTENT => true],
        ],
    ],
];
