<?php
$app = new Illuminate\Foundation\Application(dirname(__DIR__));
// Writable state (compiled Blade views) lives where the launcher says (a temporary directory).
if ($storage = getenv('LARAVEL_STORAGE_PATH')) {
    $app->useStoragePath($storage);
}
$app->singleton(Illuminate\Contracts\Http\Kernel::class, App\Http\Kernel::class);
$app->singleton(Illuminate\Contracts\Debug\ExceptionHandler::class, App\Exceptions\Handler::class);
return $app;
