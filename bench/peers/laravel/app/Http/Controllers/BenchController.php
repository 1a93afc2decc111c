<?php
namespace App\Http\Controllers;

use App\Models\Fortune;
use App\Models\World;
use Illuminate\Http\Request;
use Illuminate\Routing\Controller;

// TechEmpower's test set with Eloquent and Blade, as a Laravel app is written.
class BenchController extends Controller
{
    public function plaintext()
    {
        return response('Hello, World!', 200, ['Content-Type' => 'text/plain']);
    }

    public function json()
    {
        return response()->json(['message' => 'Hello, World!']);
    }

    public function db()
    {
        return response()->json(World::find(random_int(1, 10000))->toBench());
    }

    public function queries(Request $request)
    {
        $worlds = [];
        for ($i = self::clamp($request->query('queries')); $i > 0; $i--) {
            $worlds[] = World::find(random_int(1, 10000))->toBench();  // one query per row
        }
        return response()->json($worlds);
    }

    public function fortunes()
    {
        $fortunes = Fortune::all();
        $fortunes->push(new Fortune(['id' => 0, 'message' => 'Additional fortune added at request time.']));
        return view('fortunes', ['fortunes' => $fortunes->sortBy('message', SORT_STRING)]);
    }

    public function updates(Request $request)
    {
        $worlds = [];
        for ($i = self::clamp($request->query('queries')); $i > 0; $i--) {
            $world = World::find(random_int(1, 10000));
            do {
                $number = random_int(1, 10000);
            } while ($number === $world->randomnumber);
            $world->randomnumber = $number;
            $world->save();  // Eloquent: one UPDATE per changed row
            $worlds[] = $world->toBench();
        }
        return response()->json($worlds);
    }

    // TechEmpower's clamp: missing, empty, not a number or < 1 -> 1; > 500 -> 500.
    private static function clamp($raw): int
    {
        $n = is_numeric($raw) ? (int) $raw : 1;
        return max(1, min(500, $n));
    }
}
