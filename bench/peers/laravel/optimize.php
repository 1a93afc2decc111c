<?php
// What `php artisan config:cache` and `php artisan route:cache` do before a Laravel app goes to
// production (Laravel's deployment docs), without the console service providers this minimal app
// does not load. Writes where APP_CONFIG_CACHE and APP_ROUTES_CACHE say (bench/peers/laravel/serve).
require __DIR__ . '/bootstrap/autoload.php';
$app = require __DIR__ . '/bootstrap/app.php';
$app->make(Illuminate\Contracts\Http\Kernel::class)->bootstrap();

$configPath = $app->getCachedConfigPath();
file_put_contents($configPath, '<?php return ' . var_export($app['config']->all(), true) . ';' . PHP_EOL);
require $configPath;  // must load back, as config:cache checks

$routes = $app['router']->getRoutes();
$routes->refreshNameLookups();
$routes->refreshActionLookups();
foreach ($routes as $route) {
    $route->prepareForSerialization();
}
$stub = file_get_contents('/usr/share/php/Illuminate/Foundation/Console/stubs/routes.stub');
file_put_contents($app->getCachedRoutesPath(), str_replace('{{routes}}', var_export($routes->compile(), true), $stub));
fwrite(STDERR, "laravel/optimize.php: configuration and " . count($routes) . " routes cached\n");
